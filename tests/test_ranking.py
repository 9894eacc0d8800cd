"""Ranking priors on the sample briefs with the deterministic fake embedder: what each one does to a score."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from index.engine import Engine
from index.retrieve import RetrievalSettings

QUESTION = "rare earth"


def _scores(engine: Engine, settings: RetrievalSettings) -> dict[int, tuple[int, float]]:
    answer, _ = engine.with_settings(settings).ask(QUESTION, k=10)
    return {p.hit.chunk_id: (p.hit.chunk.position, p.hit.score) for p in answer.passages}


def test_an_articles_opening_passage_counts_lede_boost_more(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    plain = RetrievalSettings(brief_evidence=0.0, lede_boost=0.0)
    flat, boosted = _scores(engine, plain), _scores(engine, replace(plain, lede_boost=0.25))
    shared = flat.keys() & boosted.keys()
    assert {flat[i][0] for i in shared} >= {0, 1}, "the question should reach a lede and a later passage"
    for chunk_id in shared:
        position, score = flat[chunk_id]
        assert boosted[chunk_id][1] == pytest.approx(score * 1.25 if position == 0 else score)

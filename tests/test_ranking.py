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


def test_a_brief_gains_evidence_only_from_its_passages_near_its_best(hash_engine_factory: Callable[..., Engine]) -> None:
    """`brief_evidence`: a tenth of the brief's next two best passages, those whose cosine is at least
    `evidence_similarity` × its best passage's (a roundup's other items carry its title, not its subject)."""
    engine = hash_engine_factory()
    plain = RetrievalSettings(brief_evidence=0.0, lede_boost=0.0)
    with_evidence = replace(plain, brief_evidence=0.1)
    answer, _ = engine.with_settings(plain).ask(QUESTION, k=50)
    hits = [p.hit for p in answer.passages]
    best = {h.citation.article_id: max(o.dense_score for o in hits if o.citation.article_id == h.citation.article_id)
            for h in hits}
    near = [h for h in hits if h.dense_score >= with_evidence.evidence_similarity * best[h.citation.article_id]]
    assert len(near) < len(hits), "some passage should be too far from its brief's best to count"
    expected = {}
    for hit in hits:
        others = sorted((o.score for o in near if o.citation.article_id == hit.citation.article_id
                         and o.chunk_id != hit.chunk_id), reverse=True)
        expected[hit.chunk_id] = hit.score + 0.1 * sum(others[:2])
    scored = {p.hit.chunk_id: p.hit.score for p in engine.with_settings(with_evidence).ask(QUESTION, k=50)[0].passages}
    assert scored.keys() == expected.keys()
    assert all(scored[i] == pytest.approx(expected[i]) for i in scored)

"""Topic matching thresholds, measured with the real model on a labelled set (see bot/alerts/topics.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.alerts.topics import DENSE_THRESHOLD, NEAR_DUPLICATE_COSINE, TopicMatcher, find_near_duplicate, load_new_briefs
from index.embed import Embedder
from index.engine import Engine
from tests.conftest import SAMPLES

LABELLED = Path(__file__).parent / "fixtures" / "alerts" / "labelled_briefs.jsonl"
TRUCE, DISPUTE = "8509442e59d6ed4f", "6c9d47646448fe20"  # the two sample briefs
# (topic, brief id, should_match); None-labelled (arguable) pairs are left out.
LABELS = [
    ("terbium", "lab-terbium", True), ("terbium", "lab-lithium", False), ("terbium", "lab-copper", False),
    ("terbium", "lab-football", False), ("terbium", "lab-licences", False), ("terbium", "lab-uranium", False),
    ("lithium brine in Chile", "lab-lithium", True), ("lithium brine in Chile", "lab-terbium", False),
    ("lithium brine in Chile", "lab-lynas", False), ("lithium brine in Chile", "lab-copper", False),
    ("lithium brine in Chile", "lab-uranium", False), ("lithium brine in Chile", TRUCE, False),
    ("dysprosium", "lab-dysprosium", True), ("dysprosium", "lab-lynas", True), ("dysprosium", "lab-lithium", False),
    ("dysprosium", "lab-copper", False), ("dysprosium", "lab-football", False),
    ("export licences", "lab-licences", True), ("export licences", TRUCE, True),
    ("export licences", "lab-football", False), ("export licences", "lab-copper", False),
    ("export licences", "lab-lithium", False), ("export licences", "lab-uranium", False),
    ("Lynas", "lab-lynas", True), ("Lynas", "lab-dysprosium", False), ("Lynas", "lab-terbium", False),
    ("Lynas", "lab-lithium", False), ("Lynas", DISPUTE, False),
    ("copper mining in Peru", "lab-copper", True), ("copper mining in Peru", TRUCE, False),
    ("copper mining in Peru", "lab-uranium", False), ("copper mining in Peru", "lab-lithium", False),
    ("uranium", "lab-uranium", True), ("uranium", TRUCE, False), ("uranium", "lab-lynas", False),
    ("uranium", "lab-copper", False),
]


@pytest.mark.integration
def test_topic_thresholds_with_the_real_model(tmp_path: Path, real_embedder: Embedder) -> None:
    engine = Engine(tmp_path / "data", embedder=real_embedder)
    engine.ingest([LABELLED, SAMPLES])
    snapshot = engine.snapshot
    briefs = {b.id[:16]: b for b in load_new_briefs(snapshot, 0)}
    matcher = TopicMatcher(lambda texts: real_embedder.embed(list(texts)), snapshot.lexical.coverage)
    wrong, rows = [], []
    for topic, brief_id, expected in LABELS:
        score = matcher.score(topic, briefs[brief_id])
        rows.append(f"{topic:24s} {brief_id:18s} dense={score.dense:.3f} keyword={score.keyword:.2f} "
                    f"expected={expected} got={score.matches}")
        if score.matches != expected:
            wrong.append(rows[-1])
    print("\n".join(rows))
    assert not wrong, wrong
    positives = [matcher.score(t, briefs[b]).dense for t, b, e in LABELS if e]
    negatives = [matcher.score(t, briefs[b]).dense for t, b, e in LABELS if not e]
    # the dense threshold sits in the measured gap; the exact numbers are recorded in bot/alerts/topics.py
    assert max(negatives) < DENSE_THRESHOLD
    # all positives but the two carried by keyword (dysprosium→Lynas 0.293, licences→truce 0.273) clear it
    assert sum(p > DENSE_THRESHOLD for p in positives) == len(positives) - 2


@pytest.mark.integration
def test_near_duplicates_with_the_real_model(tmp_path: Path, real_embedder: Embedder) -> None:
    recs = [json.loads(line) for line in LABELLED.read_text().splitlines()]
    terbium = recs[0]
    light = dict(terbium, id="light", source="Mining.com",
                 body=terbium["body"].replace("18 percent", "18%") + " Prices were little changed on Friday.")
    reworded = dict(terbium, id="reworded", title="Terbium production in China rises 18% on new separation capacity",
                    body="New solvent-extraction lines in Jiangxi lifted China's terbium production by 18 percent "
                         "last quarter. " + terbium["body"].split(". ", 1)[1])
    path = tmp_path / "briefs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [*recs, light, reworded]))
    engine = Engine(tmp_path / "data", embedder=real_embedder)
    engine.ingest([path, SAMPLES])
    briefs = {b.id: b for b in load_new_briefs(engine.snapshot, 0)}
    announced = [(b.id, "", b.first_vector) for b in briefs.values() if b.id not in ("light", "reworded")]
    assert find_near_duplicate(briefs["light"], announced) == "lab-terbium"
    assert find_near_duplicate(briefs["reworded"], announced) == "lab-terbium"
    others = [b for b in briefs.values() if b.id not in ("light", "reworded")]
    for i, brief in enumerate(others):  # distinct briefs are never taken for duplicates of each other
        rest = [(o.id, "", o.first_vector) for o in others[:i] + others[i + 1:]]
        assert find_near_duplicate(brief, rest) is None, brief.id
    assert NEAR_DUPLICATE_COSINE > float(briefs[TRUCE].first_vector @ briefs[DISPUTE].first_vector)

"""Replacing and removing articles: new generations without them, dense ids, seqs that never go back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index import clean
from index.embed import HashEmbedder
from index.engine import Engine
from index.ingest import REMOVED_REASON, Provenance, embedding_text, rebuild, restructure
from index.store import Snapshot, current_folder
from index.vectors import HNSW, SOURCE_FILE

POST_ID = "tg:-1001:7"
FIRST = "Lanthanum smelter restarts in Baotou after a two-month outage, the operator said on Monday."
EDITED = "Yttrium refinery in Jiangxi doubles its quota after inspections ended, the operator said on Monday."


def record(path: Path, body: str, **fields: str) -> Path:
    path.write_text(json.dumps({"id": POST_ID, "title": "Plant news", "body": body, **fields}), encoding="utf-8")
    return path


def seqs(engine: Engine) -> dict[str, int]:
    return {r[0]: r[1] for r in Snapshot.open(engine.data_dir).query("SELECT id, seq FROM articles")}


def assert_consistent(engine: Engine, atol: float = 1e-6) -> Snapshot:
    """Chunk ids are 0…n-1 and row i of the vectors (and BM25) is chunk i's embedding: nothing stale is left."""
    snapshot = Snapshot.open(engine.data_dir)
    rows = snapshot.query("SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.seq = c.article_seq "
                          "ORDER BY c.id")
    assert [r[0] for r in rows] == list(range(snapshot.manifest.count))
    assert snapshot.vectors.count == snapshot.lexical.count == len(rows)
    expected = HashEmbedder().embed([embedding_text(r[1], r[2]) for r in rows])
    np.testing.assert_allclose(snapshot.vectors.vectors(np.arange(len(rows))), expected, atol=atol)
    return snapshot


def cited(engine: Engine, question: str) -> set[str]:
    return {p.hit.citation.article_id for p in engine.ask(question, 5)[0].passages}


def test_an_edited_post_replaces_the_brief_and_keeps_its_place(hash_engine_factory: Callable[..., Engine],
                                                               tmp_path: Path) -> None:
    engine = hash_engine_factory()
    post = record(tmp_path / "post.json", FIRST)
    stamp = Provenance(source="Metals Channel", url="https://t.me/metals/7", published_at=date(2025, 9, 25))
    first = engine.publish([post], stamp)
    assert [a.id for a in first.added] == [POST_ID] and not first.replaced
    before = seqs(engine)
    assert cited(engine, "Lanthanum smelter Baotou") == {POST_ID}

    record(post, EDITED)
    edit = engine.publish([post], stamp)
    assert [a.id for a in edit.replaced] == [POST_ID] and not edit.added and edit.chunks > 0
    assert seqs(engine) == before  # the alert queue does not see it as new
    assert cited(engine, "Lanthanum smelter Baotou") == set()
    assert cited(engine, "Yttrium refinery Jiangxi quota") == {POST_ID}
    article = engine.article(POST_ID)
    assert article and (article.source, article.url, article.published_at) == (
        "Metals Channel", "https://t.me/metals/7", date(2025, 9, 25))
    assert assert_consistent(engine).manifest.articles == 3

    again = engine.publish([post], stamp)  # the same file once more
    assert again.unchanged_files == 1 and not again.added and not again.replaced


def test_plain_ingest_still_skips_a_known_id_and_the_same_text_elsewhere_is_a_duplicate(
        hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    engine.publish([record(tmp_path / "post.json", FIRST)])
    skipped = engine.ingest([record(tmp_path / "other.json", EDITED)])
    assert not skipped.added and len(skipped.duplicates) == 1
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps({"id": "elsewhere", "title": "Copy", "body": FIRST}), encoding="utf-8")
    duplicate = engine.publish([copy])
    assert not duplicate.added and not duplicate.replaced and len(duplicate.duplicates) == 1
    assert cited(engine, "Lanthanum smelter Baotou") == {POST_ID}


def test_remove_by_id_or_link_and_seqs_never_go_back(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    post = record(tmp_path / "post.json", FIRST, url="https://t.me/metals/7")
    engine.publish([post])
    highest = max(seqs(engine).values())
    assert engine.remove(["https://t.me/metals/7"])[0].id == POST_ID
    assert engine.remove([POST_ID]) == [] and engine.remove(["no-such-brief"]) == []
    assert cited(engine, "Lanthanum smelter Baotou") == set()
    assert POST_ID not in seqs(engine) and assert_consistent(engine).manifest.articles == 2

    # An edit of a removed post stays out; an operator's explicit ingest brings it back, as a new brief.
    edit = engine.publish([post])
    assert edit.unchanged_files == 1
    record(post, EDITED)
    refused = engine.publish([post])
    assert not refused.added and REMOVED_REASON in refused.rejected[0].reason
    back = engine.ingest([record(tmp_path / "again.json", EDITED)])
    assert [a.id for a in back.added] == [POST_ID]
    assert seqs(engine)[POST_ID] > highest  # never a seq the alert queue has already passed
    assert_consistent(engine)


def test_samples_removed_one_by_one_leave_an_empty_but_valid_index(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    for article_id in list(seqs(engine)):
        assert [a.id for a in engine.remove([article_id])] == [article_id]
        assert_consistent(engine)
    assert Snapshot.open(engine.data_dir).manifest.count == 0
    assert engine.ask("What happened with Geneva?")[0].no_answer


def test_removal_from_an_hnsw_index_reuses_the_stored_vectors(hash_engine_factory: Callable[..., Engine],
                                                              tmp_path: Path) -> None:
    engine = hash_engine_factory()
    engine.publish([record(tmp_path / "post.json", FIRST)])
    restructure(engine.data_dir, HNSW)
    geneva = [p.hit.citation.article_id for p in engine.ask("What happened with Geneva?", 3)[0].passages]
    removed = engine.remove([POST_ID])  # no embedder involved: vectors come from the float16 copy
    assert removed and Snapshot.open(engine.data_dir).manifest.vector_index == HNSW
    snapshot = assert_consistent(engine, atol=2e-2)  # 8-bit codes decode within ~1e-2
    assert np.load(current_folder(engine.data_dir) / SOURCE_FILE).shape[0] == snapshot.manifest.count  # type: ignore[operator]
    assert [p.hit.citation.article_id for p in engine.ask("What happened with Geneva?", 3)[0].passages] == geneva


def test_reindex_keeps_every_seq(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    engine.publish([record(tmp_path / "post.json", FIRST)])
    before = seqs(engine)
    engine.remove([POST_ID])  # the highest seq is now a gap that a renumbering would reuse
    rebuild(engine.data_dir, HashEmbedder())
    after = seqs(engine)
    assert after == {k: v for k, v in before.items() if k != POST_ID}
    engine.ingest([record(tmp_path / "new.json", EDITED, id="fresh")])
    assert seqs(engine)["fresh"] > before[POST_ID]
    assert_consistent(engine)


def test_provenance_numbers_a_files_further_articles(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory([])
    batch = tmp_path / "doc.json"
    batch.write_text(json.dumps([{"title": "One", "body": FIRST}, {"title": "Two", "body": EDITED}]), encoding="utf-8")
    report = engine.publish([batch], Provenance(id="tg:-1001:9", source="Metals Channel"))
    assert [(a.id, a.source) for a in report.added] == [("tg:-1001:9", "Metals Channel"),
                                                        ("tg:-1001:9#2", "Metals Channel")]


def test_reindex_drops_lines_an_older_cleaning_kept(hash_engine_factory: Callable[..., Engine], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An index stored before the cleaning knew video players and reader notes loses them at `briefbot reindex`."""
    engine = hash_engine_factory([])
    player = "Video Ad Feedback See the smelter restart 02:46 - Source: CNN"
    monkeypatch.setattr(clean, "_NOT_TEXT", re.compile(r"(?!)"))  # the cleaning as it was: no such family
    engine.publish([record(tmp_path / "post.json", f"{FIRST}\n\n{player}\n\n{EDITED}")])
    assert player in Snapshot.open(engine.data_dir).articles()[0].body
    monkeypatch.undo()
    rebuild(engine.data_dir, HashEmbedder())
    article = Snapshot.open(engine.data_dir).articles()[0]
    assert article.body == f"{FIRST}\n\n{EDITED}"
    assert all(player not in r[0] for r in Snapshot.open(engine.data_dir).query("SELECT text FROM chunks"))
    assert_consistent(engine)

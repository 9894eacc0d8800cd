"""The saved index: backend conformance, manifest checks, dedup, incremental and atomic writes."""

from __future__ import annotations

import dataclasses

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from index.embed import HashEmbedder
from index.engine import Engine
from index.errors import IndexFormatError, IndexMismatchError, IndexMissingError
from index.ingest import rebuild, upgrade
from index.lexical import LexicalIndex
from index.store import FORMAT_VERSION, SAME_PASSAGES_SINCE, Manifest, Snapshot, current_folder
from index.vectors import BruteForceIndex, FaissFlatIndex
from tests.conftest import ROOT, SAMPLES, WIKINEWS

BACKENDS = [FaissFlatIndex, BruteForceIndex]


def _unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_conforms_to_brute_force(backend: type) -> None:
    data, queries = _unit_rows(500, 32, 1), _unit_rows(10, 32, 2)
    reference, index = BruteForceIndex(32), backend(32)
    for part in np.array_split(data, 3):  # incremental adds
        reference.add(part)
        index.add(part)
    allowed = np.arange(0, 500, 7)
    for q in queries:
        for subset in (None, allowed):
            want_scores, want_ids = reference.search(q, 10, subset)
            got_scores, got_ids = index.search(q, 10, subset)
            assert list(got_ids) == list(want_ids)
            np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(index.vectors(np.array([3, 499])), data[[3, 499]], atol=1e-6)


def test_manifest_describes_the_index(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    manifest = Manifest.read(current_folder(engine.data_dir))  # type: ignore[arg-type]
    chunks = engine.snapshot.query("SELECT COUNT(*) FROM chunks")[0][0]
    assert (manifest.model, manifest.dimension, manifest.articles, manifest.count) == ("hash-fake", 64, 2, chunks)
    assert manifest.format_version == FORMAT_VERSION and manifest.precision == "float32"


def test_passages_and_citations_read_as_the_joined_rows_say(hash_engine_factory: Callable[..., Engine]) -> None:
    """The question path reads passages and citations without joining articles per passage row; what it reads
    must be what the join gives, and a citation is made once per snapshot."""
    snapshot = hash_engine_factory().snapshot
    joined = snapshot.query("SELECT c.id, c.position, c.text, a.seq, a.id AS article, a.title FROM chunks c "
                            "JOIN articles a ON a.seq = c.article_seq ORDER BY a.seq, c.position")
    ids, positions, seqs = snapshot.passages_of(sorted({r["seq"] for r in joined}, reverse=True))
    assert [ids.tolist(), positions.tolist(), seqs.tolist()] == [[r[k] for r in joined] for k in ("id", "position", "seq")]
    chunks = snapshot.chunks([r["id"] for r in joined])
    for row in joined:
        chunk, citation = chunks[row["id"]]
        assert (chunk.article_id, chunk.position, chunk.text) == (row["article"], row["position"], row["text"])
        assert (citation.article_id, citation.title) == (row["article"], row["title"])
        assert snapshot.citations([row["seq"]])[row["seq"]] is citation
    assert [len(a) for a in snapshot.passages_of([])] == [0, 0, 0]


def test_other_model_fails_loudly_with_the_fix(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    other = Engine(engine.data_dir, embedder=HashEmbedder(dimension=32, model_id="another-model"))
    with pytest.raises(IndexMismatchError, match=r"built with model 'hash-fake'.*briefbot reindex"):
        other.ask("Geneva")
    rebuild(engine.data_dir, other.embedder)
    answer, _ = other.ask("Geneva export licenses")
    assert answer.passages and Snapshot.open(engine.data_dir).manifest.model == "another-model"


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="briefbot ingest"):
        Engine(tmp_path, embedder=HashEmbedder()).ask("Geneva")


def test_reingest_is_a_fast_no_op(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    before = current_folder(engine.data_dir)
    report = engine.ingest([SAMPLES])
    assert (len(report.added), report.unchanged_files, report.manifest) == (0, 2, None)
    assert current_folder(engine.data_dir) == before


def test_same_article_in_two_formats_is_stored_once(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory([])
    text = (SAMPLES / "003_1f9207a099621c55.txt").read_text(encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "b.txt").write_text(text.replace("\n\n", "\n\n\n").replace(". ", ".  "), encoding="utf-8")
    report = engine.ingest([folder, SAMPLES / "003_1f9207a099621c55.txt"])
    assert len(report.added) == 1 and len(report.duplicates) == 2


def test_json_id_is_kept_everywhere(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory([])
    record = {"id": "brief-42", "text": "Lynas shipped heavy rare earth oxide from Malaysia. " * 5, "date": "2025-10-01"}
    (tmp_path / "r.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    report = engine.ingest([tmp_path / "r.jsonl"])
    assert report.added[0].id == "brief-42" and report.added[0].title.startswith("Lynas shipped")
    answer, _ = engine.ask("Lynas Malaysia oxide")
    assert answer.passages[0].hit.citation.article_id == "brief-42"


def test_incremental_add_keeps_earlier_articles(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory([SAMPLES / "000_cf58dd7b26a1b221.txt"])
    old = engine.snapshot
    engine.ingest([SAMPLES / "003_1f9207a099621c55.txt"])
    assert engine.snapshot.manifest.articles == 2 and engine.snapshot.manifest.generation == 2
    # A reader holding the previous generation keeps working while the new one is published.
    assert old.manifest.articles == 1 and old.chunks([0])


def _bad_inputs(folder: Path) -> dict[str, str]:
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "nav.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    (folder / "broken.jsonl").write_text('{"title": "Good", "body": "Terbium output rose in Baotou this quarter, '
                                         'said producers."}\n{"title": broken\n')
    return {"empty.txt": "empty", "binary.txt": "binary", "notes.pdf": "damaged PDF",
            "nav.html": "no article text", "broken.jsonl:2": "invalid JSON"}


def test_bad_input_is_reported_per_file_and_the_rest_ingested(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFBOT_MODEL", "hash")
    data = tmp_path / "data"
    assert main(["ingest", "--data-dir", str(data), str(SAMPLES)]) == 0
    expected = _bad_inputs(tmp_path / "bad")
    assert main(["ingest", "--data-dir", str(data), str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err
    for where, reason in expected.items():
        line = next(l for l in err.splitlines() if f"bad/{where}:" in l)
        assert reason in line, line
    assert Snapshot.open(data).manifest.articles == 3  # both samples kept, the good JSONL line added


def test_questions_that_are_not_questions(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    for question in ["", "   ", "<b><script>alert(1)</script>", "x" * 10_000, "Geneva " * 2_000, "🤔🤔🤔"]:
        answer, _ = engine.ask(question)
        assert answer.passages or answer.notice


KILL_SCRIPT = """
import sys
from pathlib import Path
from index.embed import HashEmbedder
from index.engine import Engine
Engine(Path(sys.argv[1]), embedder=HashEmbedder()).ingest([Path(sys.argv[2])])
"""


def _ingest_child(data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(data_dir), str(WIKINEWS)], cwd=ROOT)


@pytest.mark.skipif(not WIKINEWS.is_file(), reason="needs ../shared/corpora/wikinews (or BRIEFBOT_SHARED_DIR)")
def test_killed_ingest_leaves_the_previous_index_usable(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    started = time.perf_counter()
    assert _ingest_child(tmp_path / "timing").wait() == 0
    duration = time.perf_counter() - started
    for fraction in (0.2, 0.4, 0.6, 0.75, 0.85, 0.95):  # parsing, embedding, writing, publishing
        child = _ingest_child(engine.data_dir)
        time.sleep(duration * fraction)
        child.send_signal(signal.SIGKILL)
        child.wait()
        fresh = Engine(engine.data_dir, embedder=HashEmbedder())
        answer, _ = fresh.ask("Geneva export licenses")
        assert answer.passages, f"index unusable after a kill at {fraction:.0%} of an ingest"
        assert fresh.snapshot.manifest.articles in (2, 295)
    report = Engine(engine.data_dir, embedder=HashEmbedder()).ingest([WIKINEWS])
    assert Snapshot.open(engine.data_dir).manifest.articles == 295, report.rejected
    assert not list((engine.data_dir / "index").glob("tmp-*")), "a finished ingest cleans up killed writers' leftovers"


def test_an_older_format_is_refused_by_readers_and_rebuilt_by_the_next_ingest(
        hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    folder = current_folder(engine.data_dir)
    assert folder is not None
    dataclasses.replace(Manifest.read(folder), format_version=FORMAT_VERSION - 1).write(folder)
    with pytest.raises(IndexFormatError, match="briefbot reindex"):
        Engine(engine.data_dir, embedder=engine.embedder).ask("Geneva")
    note = tmp_path / "note.txt"
    note.write_text("Terbium Note\n\nSep 24, 2025\n\nTerbium prices rose again this week in Europe.\n")
    report = Engine(engine.data_dir, embedder=engine.embedder).ingest([note])
    assert report.rebuilt_from == FORMAT_VERSION - 1 and len(report.added) == 1
    rebuilt = Engine(engine.data_dir, embedder=engine.embedder)
    assert rebuilt.snapshot.manifest.format_version == FORMAT_VERSION and rebuilt.snapshot.manifest.articles == 3


class _CountingEmbedder(HashEmbedder):
    """The fake embedder, counting the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        self.embedded += len(texts)
        return super().embed(texts, batch_size=batch_size, show_progress=show_progress)


def test_an_index_whose_passages_are_current_is_upgraded_by_rebuilding_bm25_alone(
        hash_engine_factory: Callable[..., Engine], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Since format 3 only the BM25 terms changed (4: British spellings): the next ingest or `briefbot reindex`
    embeds nothing and keeps the vectors; an index from before format 3 is re-embedded whole."""
    engine = hash_engine_factory()

    def set_format(version: int) -> None:
        folder = current_folder(engine.data_dir)
        assert folder is not None
        dataclasses.replace(Manifest.read(folder), format_version=version).write(folder)

    before = Snapshot.open(engine.data_dir)
    vectors = before.vectors.vectors(np.arange(5))
    LexicalIndex.build(["stale terms"] * before.manifest.count).save(before.folder)  # as an older tokenizer left it
    set_format(SAME_PASSAGES_SINCE)
    counting = _CountingEmbedder()
    assert Engine(engine.data_dir, embedder=counting).ingest([SAMPLES]).rebuilt_from == SAME_PASSAGES_SINCE
    upgraded = Snapshot.open(engine.data_dir)
    assert counting.embedded == 0 and upgraded.manifest.format_version == FORMAT_VERSION
    np.testing.assert_array_equal(upgraded.vectors.vectors(np.arange(5)), vectors)
    assert upgraded.lexical.idf("stale") == 0 and upgraded.lexical.idf("geneva") > 0  # BM25 rebuilt from the passages
    assert upgrade(engine.data_dir, counting.model_id) is None  # already current

    set_format(FORMAT_VERSION - 1)
    monkeypatch.setenv("BRIEFBOT_MODEL", "hash")
    assert main(["reindex", "--data-dir", str(engine.data_dir)]) == 0
    assert "nothing re-embedded" in capsys.readouterr().out
    assert Snapshot.open(engine.data_dir).manifest.format_version == FORMAT_VERSION
    set_format(FORMAT_VERSION - 1)  # a structure asked for with an upgrade is applied too, not dropped
    assert main(["reindex", "--data-dir", str(engine.data_dir), "--structure", "hnsw-sq8"]) == 0
    restructured = Snapshot.open(engine.data_dir).manifest
    assert restructured.format_version == FORMAT_VERSION and restructured.vector_index == "hnsw-sq8"

    set_format(SAME_PASSAGES_SINCE - 1)
    assert upgrade(engine.data_dir, counting.model_id) is None
    rebuild(engine.data_dir, counting)
    assert counting.embedded == upgraded.manifest.count


def test_batch_reads_eval_lines_as_they_are(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """An eval file ("qid", "date") runs through `ask --batch`: each answer as of its line's date, under its qid."""
    monkeypatch.setenv("BRIEFBOT_MODEL", "hash")
    data = tmp_path / "data"
    assert main(["ingest", "--data-dir", str(data), str(SAMPLES)]) == 0
    lines = [{"qid": "before", "query": "House delegation Beijing rare earth", "date": "2025-09-01"},
             {"qid": "after", "query": "House delegation Beijing rare earth", "date": "2025-09-26"}]
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    capsys.readouterr()
    assert main(["ask", "--data-dir", str(data), "--json", "--batch", str(tmp_path / "q.jsonl")]) == 0
    answers = {a["id"]: a for a in map(json.loads, capsys.readouterr().out.splitlines())}
    dates = {key: {p["citation"]["published_at"] for p in a["passages"]} for key, a in answers.items()}
    assert "2025-09-23" not in dates["before"] and "2025-09-23" in dates["after"]

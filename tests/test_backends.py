"""Every vector structure, precision and query backend against the same references.

- vector structures (flat, HNSW-SQ8, brute force) return the same top results on a fixed set;
- the approximate structure is checked against exact search on seeded REAL sentence embeddings;
- PyTorch fp32/bf16 and the ONNX export on OpenVINO (fp32, and bf16 where the CPU has it) embed the
  sample briefs alike (cosine) and rank alike;
- `briefbot ask`, and `briefbot ingest` once the export exists, never import torch;
- structure changes never re-embed; manifest mismatches fail loudly.
Speed is measured in bench/run.py, never here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import onnx_embed, vectors
from index.chunk import split_sentences
from index.embed import Embedder, HashEmbedder, SentenceTransformerEmbedder, default_model_path
from index.engine import Engine
from index.errors import BriefbotError, IndexMismatchError
from index.ingest import embed_chunks, embedding_text, ingest_paths, restructure
from index.onnx_embed import (OnnxEmbedder, cached_onnx_embedder, choose_precision, export_onnx, export_roots,
                               find_export, load_exported_embedder)
from index.precision import AUTO, BFLOAT16, FLOAT32, INT8, native_bf16, resolve_precision
from index.store import Snapshot, current_folder
from index.vectors import FLAT, HNSW, BruteForceIndex, FaissFlatIndex, FaissHNSWIndex, SOURCE_FILE
from tests.conftest import ROOT, SAMPLES, WIKINEWS, copy_index
from tests.sentences import generated_news_sentences

MODEL_ID = "all-MiniLM-L6-v2"
QUESTIONS = ["What happened with Geneva?", "Who controls rare earth processing?", "REMX", "export licenses",
             "What did Adam Smith say?", "magnets for electric vehicles"]


def _unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


# ------------------------------------------------------------------------------ vector structures

@pytest.mark.parametrize("backend", [FaissFlatIndex, FaissHNSWIndex, BruteForceIndex])
@pytest.mark.parametrize("exact_filter_max", [20_000, 0])
def test_every_structure_returns_the_reference_top_results(backend: type, exact_filter_max: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # exact_filter_max=0 sends filtered HNSW searches through the graph walk with an IDSelector.
    monkeypatch.setattr(vectors, "EXACT_FILTER_MAX", exact_filter_max)
    data, queries = _unit_rows(2000, 48, 1), _unit_rows(20, 48, 2)
    reference, index = BruteForceIndex(48), backend(48)
    for part in np.array_split(data, 3):  # incremental adds
        reference.add(part)
        index.add(part)
    exact = backend is not FaissHNSWIndex
    for allowed in (None, np.arange(0, 2000, 7), np.arange(1500, 1530)):
        overlap = 0
        for q in queries:
            want_scores, want_ids = reference.search(q, 10, allowed)
            got_scores, got_ids = index.search(q, 10, allowed)
            assert len(got_ids) == len(want_ids)
            if allowed is not None:
                assert set(got_ids.tolist()) <= set(allowed.tolist())
            if exact:
                assert list(got_ids) == list(want_ids)
                np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-5)
            else:  # 8-bit codes: scores within quantisation error, near-ties may swap
                np.testing.assert_allclose(got_scores, data[got_ids] @ q, atol=0.03)
            overlap += len(set(got_ids.tolist()) & set(want_ids.tolist()))
        assert overlap / (10 * len(queries)) >= (1.0 if exact else 0.9)
    atol = 1e-6 if exact else 0.03
    np.testing.assert_allclose(index.vectors(np.array([3, 1999])), data[[3, 1999]], atol=atol)


@pytest.fixture(scope="session")
def fp32_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(default_model_path(), MODEL_ID, FLOAT32)


@pytest.fixture(scope="session")
def bf16_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(default_model_path(), MODEL_ID, BFLOAT16)


@pytest.fixture(scope="session")
def real_sentences(bf16_embedder: SentenceTransformerEmbedder) -> np.ndarray:
    """Real embeddings of 800 distinct 6–40-word sentences: Wikinews's, or without ../shared the sample
    briefs' (89) topped up with generated news sentences, so the test never measures a handful."""
    texts: list[str] = []
    sources = [json.loads(line)["body"] for line in WIKINEWS.open()] if WIKINEWS.is_file() else \
        [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt"))]
    for body in sources:
        for paragraph in body.split("\n"):
            texts.extend(s for s in split_sentences(paragraph) if 6 <= len(s.split()) <= 40)
    texts = list(dict.fromkeys([*texts, *generated_news_sentences(800)]))[:800]
    assert len(texts) == 800
    return bf16_embedder.embed(texts, batch_size=64)


@pytest.mark.integration
def test_hnsw_recall_against_exact_on_real_sentence_embeddings(real_sentences: np.ndarray) -> None:
    order = np.random.default_rng(5).permutation(len(real_sentences))
    queries, base = real_sentences[order[:100]], real_sentences[order[100:]]
    exact, approx = FaissFlatIndex(base.shape[1]), FaissHNSWIndex(base.shape[1])
    exact.add(base)
    approx.add(base)
    allowed = np.arange(0, len(base), 3)
    for subset in (None, allowed):
        found = sum(len(set(approx.search(q, 10, subset)[1].tolist()) & set(exact.search(q, 10, subset)[1].tolist()))
                    for q in queries)
        assert found / (10 * len(queries)) >= 0.95


def _sentence_like_passages(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stand-in for bench/ann.py's corpus without the model: 'sentences' scattered around 400
    topics, passages = normalised means of 3–6 of them, queries = other sentences."""
    rng = np.random.default_rng(seed)
    topics = _unit_rows(400, 384, seed + 1)
    sentences = topics[rng.integers(0, 400, 4000)] + rng.normal(0, 0.06, (4000, 384)).astype(np.float32)
    sentences /= np.linalg.norm(sentences, axis=1, keepdims=True)
    queries, pool = sentences[:100], sentences[100:]
    picks = rng.integers(0, len(pool), (n, 6))
    mask = (np.arange(6) < rng.integers(3, 7, n)[:, None]).astype(np.float32)
    passages = np.einsum("nk,nkd->nd", mask, pool[picks])
    return (passages / np.linalg.norm(passages, axis=1, keepdims=True)).astype(np.float32), queries


def test_hnsw_recall_against_exact_after_save_load_and_incremental_add(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "EXACT_FILTER_MAX", 0)  # filtered searches walk the graph too
    data, queries = _sentence_like_passages(6000, 7)
    exact, approx = FaissFlatIndex(384), FaissHNSWIndex(384)
    exact.add(data)
    approx.add(data[:4000])
    approx.save(tmp_path)
    loaded = vectors.load_index(tmp_path, HNSW)  # as write_generation extends an existing generation
    assert loaded.ef_search == vectors.HNSW_EF_SEARCH
    assert loaded._index.hnsw.efConstruction == vectors.HNSW_EF_CONSTRUCTION  # not stored in the file
    loaded.add(data[4000:])
    for allowed in (None, np.arange(3000, 4500)):
        found = sum(len(set(loaded.search(q, 10, allowed)[1].tolist()) & set(exact.search(q, 10, allowed)[1].tolist()))
                    for q in queries)
        assert found / (10 * len(queries)) >= 0.95, allowed
    # A graph from before M=32 (M=24) keeps the wider beam it was measured with.
    sparse = faiss.IndexHNSWSQ(384, faiss.ScalarQuantizer.QT_8bit, 24, faiss.METRIC_INNER_PRODUCT)
    assert FaissHNSWIndex(384, sparse).ef_search == vectors.HNSW_EF_SEARCH_SPARSE


# --------------------------------------------------------------------------- precision & backends

def test_precision_setting_and_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_bf16 = tmp_path / "cpuinfo-bf16"
    with_bf16.write_text("processor: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n")
    without = tmp_path / "cpuinfo-plain"
    without.write_text("processor: 0\nflags\t\t: fpu sse avx2\n")
    assert native_bf16.__wrapped__(str(with_bf16)) and not native_bf16.__wrapped__(str(without))
    assert resolve_precision("fp32") == FLOAT32 and resolve_precision("bf16") == BFLOAT16
    assert resolve_precision("int8") == resolve_precision()  # PyTorch has no int8 path: as auto
    assert resolve_precision() == resolve_precision("auto") == (BFLOAT16 if native_bf16() else FLOAT32)
    with pytest.raises(BriefbotError, match="BRIEFBOT_PRECISION"):
        resolve_precision("int4")
    # The settings reach the engine from the environment (or .env), validated in one place.
    from bot.config import ConfigError, EngineConfig

    monkeypatch.setenv("BRIEFBOT_PRECISION", "fp32")
    monkeypatch.setenv("BRIEFBOT_EMBED_BACKEND", "torch")
    engine = EngineConfig.load().engine(tmp_path)
    assert (engine.precision, engine.backend, engine.data_dir) == ("fp32", "torch", tmp_path)
    monkeypatch.setenv("BRIEFBOT_EMBED_BACKEND", "onnxruntime")
    with pytest.raises(ConfigError, match="BRIEFBOT_EMBED_BACKEND"):
        EngineConfig.load()


@pytest.fixture(scope="session")
def onnx_export_dir(tmp_path_factory: pytest.TempPathFactory, fp32_embedder: SentenceTransformerEmbedder) -> Path:
    """A data dir whose models/ holds the verified ONNX export, gated (made once per session)."""
    data_dir = tmp_path_factory.mktemp("onnx")
    accepted, message = export_onnx(data_dir / "models", MODEL_ID, default_model_path(), fp32_embedder)
    assert accepted, message
    return data_dir


def _export_info(data_dir: Path) -> dict[str, object]:
    found = find_export(export_roots(data_dir, None), MODEL_ID, default_model_path())
    assert found is not None
    return found[1]


@pytest.fixture(scope="session")
def onnx_embedder(onnx_export_dir: Path) -> OnnxEmbedder:
    found = cached_onnx_embedder(export_roots(onnx_export_dir, None), MODEL_ID, default_model_path())
    assert found is not None and found.precision == FLOAT32
    return found


@pytest.fixture(scope="session")
def onnx_ingest_embedder(onnx_export_dir: Path) -> OnnxEmbedder:
    """What ingest uses: int8 or bf16 where the CPU has the units and the gate passed them, on every core."""
    found = cached_onnx_embedder(export_roots(onnx_export_dir, None), MODEL_ID, default_model_path(), AUTO, streams=2)
    assert found is not None and found.precision == choose_precision(_export_info(onnx_export_dir), AUTO)[0]
    return found


def _cosine_floor(precision: str) -> float:
    """The export's floor per precision: the verify sample's for floats; int8 is judged by the retrieval gate,
    and its cosine on real passages goes down to ~0.96 (README, Benchmarks)."""
    return {FLOAT32: onnx_embed.MIN_COSINE, BFLOAT16: onnx_embed.MIN_COSINE_BF16, INT8: 0.95}[precision]


@pytest.fixture(scope="session")
def sample_passages() -> list[str]:
    from index.chunk import chunk_article
    from index.parse import parse_file

    return [embedding_text(a.title, c.text) for p in sorted(SAMPLES.glob("*.txt"))
            for a in parse_file(p).articles for c in chunk_article(a)]


@pytest.mark.integration
def test_a_question_is_padded_to_a_few_lengths_without_changing_its_vector(onnx_export_dir: Path,
                                                                          onnx_embedder: OnnxEmbedder) -> None:
    """One compiled shape per QUESTION_TOKEN_STEP tokens; the padding is masked out of the mean."""
    unpadded = cached_onnx_embedder(export_roots(onnx_export_dir, None), MODEL_ID, default_model_path(), streams=2)
    assert unpadded is not None
    lengths = set()
    for question in [*QUESTIONS, " ".join(["briefing"] * 20)]:
        lengths.add(onnx_embedder.tokenize(question)["input_ids"].shape[1])
        np.testing.assert_allclose(onnx_embedder.embed([question]), unpadded.embed([question]), atol=1e-5)
    assert lengths == {onnx_embed.QUESTION_TOKEN_STEP, 2 * onnx_embed.QUESTION_TOKEN_STEP}


@pytest.mark.integration
def test_precisions_and_backends_agree(fp32_embedder: Embedder, bf16_embedder: Embedder, onnx_embedder: Embedder,
                                       onnx_ingest_embedder: Embedder, sample_passages: list[str]) -> None:
    reference = fp32_embedder.embed(sample_passages)
    for name, embedder, floor in [("bf16", bf16_embedder, 0.99), ("onnx", onnx_embedder, 0.999),
                                  ("onnx-ingest", onnx_ingest_embedder, _cosine_floor(onnx_ingest_embedder.precision))]:
        got = embedder.embed(sample_passages)
        assert got.dtype == np.float32 and got.shape == reference.shape, name
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(got * reference, axis=1)) >= floor, name
    # Same top passage for every question, whichever embeds the question and whichever built the index.
    documents = {"fp32": reference, "bf16": bf16_embedder.embed(sample_passages),
                 "onnx-ingest": onnx_ingest_embedder.embed(sample_passages)}
    for question in QUESTIONS:
        want = int(np.argmax(reference @ fp32_embedder.embed([question])[0]))
        for doc_name, docs in documents.items():
            for query_embedder in (fp32_embedder, bf16_embedder, onnx_embedder):
                scores = docs @ query_embedder.embed([question])[0]
                best = int(np.argmax(scores))
                assert best == want or scores[want] >= scores[best] - 0.01, (question, doc_name)


@pytest.mark.integration
def test_onnx_export_is_verified_and_refused_when_it_does_not_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   onnx_export_dir: Path,
                                                                   fp32_embedder: SentenceTransformerEmbedder) -> None:
    info = _export_info(onnx_export_dir)
    assert info["min_cosine"] >= onnx_embed.MIN_COSINE
    assert (BFLOAT16 in info["precisions"]) == (native_bf16() and info["gate"][BFLOAT16]["passed"])  # type: ignore[index]
    if native_bf16():
        assert info["min_cosine_bf16"] >= onnx_embed.MIN_COSINE_BF16
    for precision, result in info["gate"].items():  # type: ignore[attr-defined]
        assert (precision in info["precisions"]) == result["passed"]  # type: ignore[operator]
        losses = [result["reference"][m] - result["candidate"][m] for m in ("recall_1", "recall_10", "mrr_10")]
        assert result["passed"] == (max(losses) < 0.005), (precision, losses)
    monkeypatch.setattr(onnx_embed, "MIN_COSINE", 1.5)  # nothing can pass: the export must be refused
    accepted, message = export_onnx(tmp_path / "models", MODEL_ID, default_model_path(), fp32_embedder)
    assert not accepted and "refused" in message
    assert cached_onnx_embedder(export_roots(tmp_path, None), MODEL_ID, default_model_path()) is None
    fallback = HashEmbedder()
    assert load_exported_embedder(tmp_path, None, lambda: fallback) is fallback  # and it is not retried


@pytest.mark.integration
def test_a_failing_export_is_refused_once_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      fp32_embedder: SentenceTransformerEmbedder) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("openvino cannot compile this model")

    monkeypatch.setattr(onnx_embed, "_export", broken)
    accepted, message = export_onnx(tmp_path / "models", MODEL_ID, default_model_path(), fp32_embedder)
    assert not accepted and "cannot compile" in message
    assert not _export_info(tmp_path)["accepted"]
    fallback = HashEmbedder()
    monkeypatch.setattr(onnx_embed, "export_onnx", lambda *a: pytest.fail("a refused export was retried"))
    assert load_exported_embedder(tmp_path, None, lambda: fallback) is fallback


TORCH_FREE = """
import sys
from bot.cli import main
code = main(sys.argv[1:])
loaded = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
assert code == 0 and not loaded, (code, loaded)
print("TORCH-FREE")
# What only ingest needs, or what the question path no longer uses (each costs a one-shot ask 50-200 ms;
# pydantic, which the configuration once used, 0.16 s; index.ingest with parsing, PDF and cleaning, 25 ms;
# OpenVINO's model-conversion tools and telemetry client, 130-170 ms: index/openvino_runtime.py).
print("INGEST-ONLY", sorted(m for m in ("scipy", "bm25s", "ftfy", "pydantic", "index.ingest", "openvino.tools.ovc",
                                        "openvino_telemetry") if sys.modules.get(m) is not None))
"""


def _torch_free(*argv: str) -> str:
    out = subprocess.run([sys.executable, "-c", TORCH_FREE, *argv], cwd=ROOT, capture_output=True, text=True,
                         env={**__import__("os").environ, "HF_HUB_OFFLINE": "1", "BRIEFBOT_MODEL": "",
                              "BRIEFBOT_EMBED_BACKEND": "auto", "BRIEFBOT_PRECISION": "auto"}, timeout=120)
    assert "TORCH-FREE" in out.stdout, out.stderr[-2000:]
    return out.stdout


@pytest.mark.integration
def test_ask_on_a_built_index_never_imports_torch(real_index_dir: Path, onnx_export_dir: Path, tmp_path: Path) -> None:
    data_dir = copy_index(real_index_dir, tmp_path / "data")
    shutil.copytree(onnx_export_dir / "models", data_dir / "models", dirs_exist_ok=True)
    out = _torch_free("ask", "--data-dir", str(data_dir), "What happened with Geneva?")
    assert "Geneva" in out and "INGEST-ONLY []" in out


@pytest.mark.integration
def test_the_console_script_prints_the_whole_answer_and_its_exit_code(real_index_dir: Path, tmp_path: Path) -> None:
    """`briefbot ask` skips the interpreter's teardown: the answer must still reach a pipe whole, codes intact."""
    data_dir = copy_index(real_index_dir, tmp_path / "data")
    briefbot = str(Path(sys.executable).parent / "briefbot")
    # Buffered as for any user's pipe (this machine sets PYTHONUNBUFFERED, which would hide a lost buffer).
    env = {**{k: v for k, v in __import__("os").environ.items() if k != "PYTHONUNBUFFERED"}, "HF_HUB_OFFLINE": "1"}
    asked = subprocess.run([briefbot, "ask", "--data-dir", str(data_dir), "What happened with Geneva?"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert asked.returncode == 0 and "Geneva" in asked.stdout and "\n[1] " in asked.stdout, asked.stderr[-2000:]
    assert asked.stdout.rstrip().splitlines()[-1].startswith("[")  # the last source line arrived
    unasked = subprocess.run([briefbot, "ask", "--data-dir", str(data_dir)], capture_output=True, text=True, env=env,
                             timeout=120)
    assert unasked.returncode == 2 and "give a QUESTION" in unasked.stderr


@pytest.mark.integration
def test_ingest_with_the_export_never_imports_torch(onnx_export_dir: Path, fp32_embedder: Embedder,
                                                    tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(onnx_export_dir / "models", data_dir / "models")
    _torch_free("ingest", "--data-dir", str(data_dir), str(SAMPLES))
    snapshot = Snapshot.open(data_dir)
    chosen = choose_precision(_export_info(onnx_export_dir), AUTO)[0]
    assert snapshot.manifest.precision == chosen
    texts = [embedding_text(r["title"], r["text"]) for r in snapshot.query(
        "SELECT a.title, c.text FROM chunks c JOIN articles a ON a.seq = c.article_seq ORDER BY c.id")]
    stored = snapshot.vectors.vectors(np.arange(snapshot.manifest.count))
    assert np.min(np.sum(stored * fp32_embedder.embed(texts), axis=1)) >= _cosine_floor(chosen)
    # Its questions are embedded by the same model, in one stream.
    question_embedder = Engine(data_dir).retriever.embedder
    assert question_embedder.precision == chosen


@pytest.mark.integration
def test_bf16_index_answers_like_fp32_queries(real_index_dir: Path, onnx_embedder: Embedder,
                                              fp32_embedder: Embedder, bf16_embedder: Embedder) -> None:
    manifest = Snapshot.open(real_index_dir).manifest
    assert manifest.precision in (FLOAT32, BFLOAT16)
    answers = {}
    for name, embedder in [("onnx", onnx_embedder), ("fp32", fp32_embedder), ("bf16", bf16_embedder)]:
        engine = Engine(real_index_dir, embedder=embedder)
        answers[name] = [[p.hit.chunk_id for p in engine.ask(q)[0].passages][:1] for q in QUESTIONS]
    assert answers["onnx"] == answers["fp32"] == answers["bf16"]


# ------------------------------------------------------------------------- structures in the store

def test_structure_change_never_re_embeds_and_keeps_results(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    before = {q: [p.hit.chunk_id for p in engine.ask(q)[0].passages] for q in QUESTIONS}
    flat_vectors = engine.snapshot.vectors.source_vectors()
    manifest = restructure(engine.data_dir, HNSW)
    assert (manifest.vector_index, manifest.vector_index_pinned) == (HNSW, True)
    folder = current_folder(engine.data_dir)
    assert (folder / SOURCE_FILE).is_file()  # type: ignore[operator]
    np.testing.assert_allclose(np.load(folder / SOURCE_FILE), flat_vectors, atol=1e-3)  # type: ignore[operator]
    stored = {embedding_text(r[0], r[1]) for r in engine.snapshot.query(
        "SELECT a.title, c.text FROM chunks c JOIN articles a ON a.seq = c.article_seq")}
    fresh = Engine(engine.data_dir, embedder=_Forbidden(engine.embedder, stored), today=engine.today)
    assert fresh.snapshot.manifest.vector_index == HNSW
    # Queries embed (allowed); nothing else may: the restructure above had no embedder at all.
    after = {q: [p.hit.chunk_id for p in fresh.ask(q)[0].passages] for q in QUESTIONS}
    assert after == before
    back = restructure(engine.data_dir, "auto")
    assert (back.vector_index, back.vector_index_pinned) == (FLAT, False)
    assert Snapshot.open(engine.data_dir).vectors.count == back.count


def test_pinned_structure_survives_an_ingest_and_size_picks_otherwise(hash_engine_factory: Callable[..., Engine],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    engine = hash_engine_factory([SAMPLES / "000_cf58dd7b26a1b221.txt"])
    restructure(engine.data_dir, HNSW)
    engine.ingest([SAMPLES / "003_1f9207a099621c55.txt"])
    manifest = Snapshot.open(engine.data_dir).manifest
    assert manifest.vector_index == HNSW and manifest.articles == 2
    assert np.load(current_folder(engine.data_dir) / SOURCE_FILE).shape[0] == manifest.count  # type: ignore[operator]
    monkeypatch.setattr(vectors, "FLAT_MAX_PASSAGES", 3)
    other = hash_engine_factory(data_dir=engine.data_dir.parent / "by-size")
    assert Snapshot.open(other.data_dir).manifest.vector_index == HNSW  # more than 3 passages


def test_manifest_mismatches_fail_loudly(hash_engine_factory: Callable[..., Engine]) -> None:
    engine = hash_engine_factory()
    folder = current_folder(engine.data_dir)
    original = json.loads((folder / "manifest.json").read_text())  # type: ignore[operator]
    cases = [({"vector_index": HNSW}, r"holds a 'flat' index but the manifest says 'hnsw-sq8'.*briefbot reindex"),
             ({"vector_index": "ivf-pq"}, r"vector structure 'ivf-pq'.*reindex --structure"),
             ({"precision": "int4"}, r"precision 'int4'.*briefbot reindex"),
             ({"model": "other-model"}, r"built with model 'other-model'.*briefbot reindex")]
    for change, message in cases:
        (folder / "manifest.json").write_text(json.dumps({**original, **change}))  # type: ignore[operator]
        with pytest.raises(IndexMismatchError, match=message):
            Snapshot.open(engine.data_dir, "hash-fake")
    (folder / "manifest.json").write_text(json.dumps(original))  # type: ignore[operator]


class _Forbidden:
    """An embedder for questions and brief sentences only: a stored passage's text would be re-embedding."""

    def __init__(self, inner: Embedder, passages: set[str]) -> None:
        self._inner, self._passages = inner, passages
        self.model_id, self.dimension = inner.model_id, inner.dimension

    def embed(self, texts, *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:  # type: ignore[no-untyped-def]
        assert not self._passages & set(texts), "restructuring must not re-embed passages"
        return self._inner.embed(texts)


class _Tagged(HashEmbedder):
    def __init__(self, precision: str) -> None:
        super().__init__()
        self.precision = precision


def test_mixed_precision_ingests_are_recorded(tmp_path: Path) -> None:
    ingest_paths(tmp_path, [SAMPLES / "000_cf58dd7b26a1b221.txt"], lambda: _Tagged(BFLOAT16), "hash-fake")
    assert Snapshot.open(tmp_path).manifest.precision == BFLOAT16
    ingest_paths(tmp_path, [SAMPLES / "003_1f9207a099621c55.txt"], lambda: _Tagged(FLOAT32), "hash-fake")
    assert Snapshot.open(tmp_path).manifest.precision == "bfloat16+float32"


# ------------------------------------------------------------------------------------- ingest

def test_pipelined_ingest_matches_direct_embedding(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    report = ingest_paths(tmp_path, [SAMPLES], HashEmbedder, "hash-fake", lambda done, total: calls.append((done, total)))
    snapshot = Snapshot.open(tmp_path)
    texts = [embedding_text(r["title"], r["text"]) for r in snapshot.query(
        "SELECT a.title, c.text FROM chunks c JOIN articles a ON a.seq = c.article_seq ORDER BY c.id")]
    stored = snapshot.vectors.vectors(np.arange(snapshot.manifest.count))
    np.testing.assert_allclose(stored, HashEmbedder().embed(texts), atol=1e-6)  # rows in chunk order
    assert calls and calls[-1] == (report.chunks, report.chunks)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))


def test_a_parsing_failure_in_the_producer_reaches_the_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.ingest as ingest

    def boom(path: Path):  # type: ignore[no-untyped-def]
        raise MemoryError("parser exploded")

    monkeypatch.setattr(ingest, "parse_file", boom)
    with pytest.raises(MemoryError, match="parser exploded"):
        ingest_paths(tmp_path, [SAMPLES], HashEmbedder, "hash-fake")
    assert current_folder(tmp_path) is None


def test_embed_chunks_keeps_input_order_with_length_sorting() -> None:
    from index.records import Article, Chunk
    from index.store import NewArticle

    article = Article("a", "T", "body", (), None, None, None, None, None)
    chunks = tuple(Chunk("a", i, "word " * (1 + (i * 7) % 13) + str(i)) for i in range(40))
    got = embed_chunks([NewArticle(article, "k", chunks)], HashEmbedder(), None, group=16, batch_size=4)
    want = HashEmbedder().embed([embedding_text("T", c.text) for c in chunks])
    np.testing.assert_allclose(got, want, atol=1e-6)

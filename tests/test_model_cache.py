"""The per-machine export cache and the int8 gate (issue 20).

- the cache folder comes from BRIEFBOT_CACHE_DIR / XDG_CACHE_HOME / ~/.cache, read in bot.config;
- an entry is trusted only when its manifest (written last) matches its files; a corrupt or partial
  entry is rebuilt; a concurrent publisher's verified entry wins;
- a second data dir reuses the export (counted), an unwritable cache falls back to the data dir;
- the gate refuses what it cannot measure, with the reason logged, and ingest falls back;
- precisions are chosen, mixed or refused per the gate, and the manifest records them.
Every test uses tmp folders and BRIEFBOT_CACHE_DIR-style paths, never the user's cache.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from index import int8, model_cache, onnx_embed
from index.calibration import generated_retrieval_set, retrieval_scores
from index.embed import HashEmbedder, default_model_path
from index.engine import Engine
from index.model_cache import MANIFEST, default_cache_dir, publish, scratch_folder, verified, write_manifest
from index.onnx_embed import choose_precision, export_roots, find_export, load_exported_embedder
from index.precision import AUTO, BFLOAT16, FLOAT32, INT8, LIKE_PASSAGES, native_bf16
from index.ingest import ingest_paths
from index.store import Snapshot, stored_precisions
from tests.conftest import SAMPLES

MODEL_ID = "all-MiniLM-L6-v2"


# ------------------------------------------------------------------------------- where the cache is

def test_cache_dir_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_cache_dir(tmp_path / "mine", "/xdg") == tmp_path / "mine"
    assert default_cache_dir(None, "/xdg") == Path("/xdg/briefbot")
    assert default_cache_dir(None, "relative/xdg") == Path.home() / ".cache" / "briefbot"  # invalid per the spec
    assert default_cache_dir(None, None) == Path.home() / ".cache" / "briefbot"
    from bot.config import EngineConfig

    monkeypatch.delenv("BRIEFBOT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert EngineConfig.load().engine(tmp_path).cache_dir == tmp_path / "xdg" / "briefbot"
    monkeypatch.setenv("BRIEFBOT_CACHE_DIR", str(tmp_path / "override"))
    monkeypatch.setenv("BRIEFBOT_PRECISION", "int8")
    engine = EngineConfig.load().engine(tmp_path)
    assert (engine.cache_dir, engine.precision) == (tmp_path / "override", "int8")


# ---------------------------------------------------------------------------- entries: verify, publish

def _entry(folder: Path, payload: bytes = b"weights") -> Path:
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(payload)
    (folder / "sub").mkdir()
    (folder / "sub" / "tokenizer.json").write_text("{}")
    write_manifest(folder, {"accepted": True})
    return folder


def test_an_entry_is_trusted_only_when_its_manifest_matches(tmp_path: Path) -> None:
    good = _entry(tmp_path / "good")
    assert verified(good) is not None and verified(good)["accepted"] is True  # type: ignore[index]
    (good / "compiled").mkdir()
    (good / "compiled" / "blob").write_bytes(b"openvino's own")  # OpenVINO validates its cache itself
    assert verified(good) is not None
    truncated = _entry(tmp_path / "truncated", b"weights and more")
    (truncated / "model.onnx").write_bytes(b"weights")
    flipped = _entry(tmp_path / "flipped")
    (flipped / "model.onnx").write_bytes(b"WEIGHTS")  # same size, other bytes: re-hashed, refused
    partial = _entry(tmp_path / "partial")
    (partial / MANIFEST).unlink()  # the manifest is written last: without it the entry was never finished
    extra = _entry(tmp_path / "extra")
    (extra / "stray.bin").write_bytes(b"?")
    missing = _entry(tmp_path / "missing")
    (missing / "sub" / "tokenizer.json").unlink()
    garbled = _entry(tmp_path / "garbled")
    (garbled / MANIFEST).write_text("{not json")
    for folder in (truncated, flipped, partial, extra, missing, garbled):
        assert verified(folder) is None, folder.name


def test_publish_is_atomic_and_a_verified_entry_already_there_wins(tmp_path: Path) -> None:
    final = tmp_path / "exports" / "entry"
    first = scratch_folder(final)
    (first / "model.onnx").write_bytes(b"first")
    write_manifest(first, {"run": 1})
    assert publish(first, final) == final and not first.exists()
    second = scratch_folder(final)  # a concurrent first run finishing later
    (second / "model.onnx").write_bytes(b"second")
    write_manifest(second, {"run": 2})
    publish(second, final)
    assert verified(final)["run"] == 1 and not second.exists()  # type: ignore[index]
    (final / "model.onnx").write_bytes(b"corrupted!")
    third = scratch_folder(final)
    (third / "model.onnx").write_bytes(b"third")
    write_manifest(third, {"run": 3})
    publish(third, final)  # a corrupt entry is replaced, never kept
    assert verified(final)["run"] == 3  # type: ignore[index]
    assert sorted(p.name for p in final.parent.iterdir()) == ["entry"]  # no temporary or trash folders left


# -------------------------------------------------------------- reuse, rebuild, fallback (export faked)

@pytest.fixture
def counted_exports(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replaces the torch export with a fast fake that writes a file and refuses (so PyTorch's stand-in,
    the hash embedder, is used); returns the list of folders exported into."""
    calls: list[Path] = []

    def fake(tmp: Path, model_id: str, model_path: Path, reference: object, gate: bool = True) -> dict[str, object]:
        calls.append(tmp)
        (tmp / "model.onnx").write_bytes(os.urandom(64))
        return {"accepted": False, "reason": "fake export for the cache tests"}

    monkeypatch.setattr(onnx_embed, "_export_and_verify", fake)
    return calls


def _load(data_dir: Path, cache_dir: Path | None) -> object:
    fallback = HashEmbedder()
    assert load_exported_embedder(data_dir, None, lambda: fallback, cache_dir=cache_dir) is fallback
    return fallback


def test_a_second_data_dir_reuses_the_machine_export(tmp_path: Path, counted_exports: list[Path]) -> None:
    cache = tmp_path / "cache"
    _load(tmp_path / "data-a", cache)
    _load(tmp_path / "data-b", cache)
    _load(tmp_path / "data-a", cache)
    assert len(counted_exports) == 1
    assert not (tmp_path / "data-a" / "models").exists() and not (tmp_path / "data-b" / "models").exists()
    found = find_export(export_roots(tmp_path / "data-b", cache), MODEL_ID, default_model_path())
    assert found is not None and found[0].parent == cache / "exports"
    assert found[1]["weights"] == model_cache.weights_digest(default_model_path()) and found[1]["cpu"]


def test_concurrent_first_runs_leave_one_intact_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      counted_exports: list[Path]) -> None:
    barrier = threading.Barrier(3)
    slow = onnx_embed._export_and_verify

    def together(tmp: Path, *args: object) -> dict[str, object]:
        barrier.wait(timeout=10)  # all three are exporting at once: none has published yet
        return slow(tmp, *args)  # type: ignore[no-any-return]

    monkeypatch.setattr(onnx_embed, "_export_and_verify", together)
    cache = tmp_path / "cache"
    runs = [threading.Thread(target=_load, args=(tmp_path / f"data-{i}", cache)) for i in range(3)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(counted_exports) == 3
    entries = list((cache / "exports").iterdir())
    assert len(entries) == 1 and verified(entries[0]) is not None  # no temporary folders, one verified entry
    monkeypatch.setattr(onnx_embed, "_export_and_verify", slow)  # a later run would not wait at the barrier
    _load(tmp_path / "data-3", cache)
    assert len(counted_exports) == 3


def test_a_corrupt_or_partial_entry_is_rebuilt(tmp_path: Path, counted_exports: list[Path]) -> None:
    cache = tmp_path / "cache"
    _load(tmp_path / "data", cache)
    folder, _ = find_export(export_roots(tmp_path / "data", cache), MODEL_ID, default_model_path())  # type: ignore[misc]
    (folder / "model.onnx").write_bytes(b"truncated")
    _load(tmp_path / "data", cache)
    assert len(counted_exports) == 2
    (folder / MANIFEST).unlink()  # as a run killed before its manifest
    _load(tmp_path / "data", cache)
    assert len(counted_exports) == 3
    assert verified(folder) is not None
    _load(tmp_path / "data", cache)
    assert len(counted_exports) == 3


def test_an_unwritable_cache_falls_back_to_the_data_dir(tmp_path: Path, counted_exports: list[Path],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="briefbot"):
        _load(tmp_path / "data", blocker / "cache")
    assert [r.getMessage() for r in caplog.records if "cannot be written" in r.getMessage()] == [
        f"model cache {blocker / 'cache'} cannot be written; exporting into {tmp_path / 'data' / 'models'} instead"]
    assert find_export([tmp_path / "data" / "models"], MODEL_ID, default_model_path()) is not None
    _load(tmp_path / "data", blocker / "cache")  # found in the data dir: not exported again
    assert len(counted_exports) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the unwritable test covers it")
def test_a_read_only_cache_falls_back_to_the_data_dir(tmp_path: Path, counted_exports: list[Path]) -> None:
    cache = tmp_path / "cache"
    (cache / "exports").mkdir(parents=True)
    (cache / "exports").chmod(0o555)
    try:
        _load(tmp_path / "data", cache)
    finally:
        (cache / "exports").chmod(0o755)
    assert find_export([tmp_path / "data" / "models"], MODEL_ID, default_model_path()) is not None


# ---------------------------------------------------- the gate in the background (export and gate faked)

@pytest.fixture
def pending_exports(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[object]]:
    """A fake export accepted in float32 with int8 pending when the gate is deferred, a fake gate passing
    int8, and a recorder in place of the detached process; returns what each was called with."""
    calls: dict[str, list[object]] = {"exports": [], "gates": [], "started": []}

    def export(tmp: Path, model_id: str, model_path: Path, reference: object, gate: bool = True) -> dict[str, object]:
        calls["exports"].append(gate)
        (tmp / "model.onnx").write_bytes(os.urandom(64))
        (tmp / "tokenizer.json").write_text("{}")
        info: dict[str, object] = {"accepted": True, "min_cosine": 1.0, "dimension": 64, "precisions": [FLOAT32]}
        return {**info, onnx_embed.PENDING: [INT8]} if not gate else {**info, "gate": {}, "precisions": [FLOAT32, INT8]}

    def gate(tmp: Path, model_id: str, info: dict[str, object], candidates: list[str]) -> dict[str, dict[str, object]]:
        calls["gates"].append(candidates)
        return {p: {"passed": True, "reason": "", "mixing_passed": True} for p in candidates}

    def start(root: Path, name: str, argv: list[str]) -> bool:
        calls["started"].append(argv)
        return len(calls["started"]) == 1  # the lock (tested below) refuses a second start while the first runs

    monkeypatch.setattr(onnx_embed, "_export_and_verify", export)
    monkeypatch.setattr(onnx_embed, "_gate", gate)
    monkeypatch.setattr(onnx_embed.background_jobs, "start", start)
    return calls


def test_a_cold_run_goes_on_in_float32_and_gates_in_the_background_once(
        tmp_path: Path, pending_exports: dict[str, list[object]], caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger="briefbot"):
        for data_dir in ("a", "b"):  # the second command comes while the gate still runs
            load_exported_embedder(tmp_path / data_dir, None, HashEmbedder, precision=AUTO, cache_dir=cache,
                                   background=True)
    assert pending_exports["exports"] == [False] and pending_exports["gates"] == []
    folder, info = find_export(export_roots(tmp_path / "a", cache), MODEL_ID, default_model_path())  # type: ignore[misc]
    assert info[onnx_embed.PENDING] == [INT8] and choose_precision(info, AUTO)[0] == FLOAT32
    assert "int8: its retrieval gate runs in the background" in choose_precision(info, AUTO)[1]
    assert pending_exports["started"][0] == ["-m", "index.export_job", str(folder.parent), MODEL_ID,
                                             str(default_model_path())]
    assert len([r for r in caplog.records if "in the background" in r.getMessage()]) == 1  # one line, once
    assert "gated" in onnx_embed.gate_export(folder.parent, MODEL_ID, default_model_path())  # what the job does
    gated, info = find_export(export_roots(tmp_path / "c", cache), MODEL_ID, default_model_path())  # type: ignore[misc]
    assert gated.name == folder.name + onnx_embed.GATED and choose_precision(info, AUTO)[0] == INT8
    assert (gated / "model.onnx").read_bytes() == (folder / "model.onnx").read_bytes()
    load_exported_embedder(tmp_path / "c", None, HashEmbedder, cache_dir=cache, background=True)
    assert len(pending_exports["started"]) == 2 and pending_exports["gates"] == [[INT8]]  # no third start, no re-gate
    assert "nothing to gate" in onnx_embed.gate_export(folder.parent, MODEL_ID, default_model_path())


def test_without_background_work_the_command_gates_itself_and_starts_nothing(
        tmp_path: Path, pending_exports: dict[str, list[object]]) -> None:
    cache = tmp_path / "cache"
    load_exported_embedder(tmp_path / "a", None, HashEmbedder, cache_dir=cache)
    assert pending_exports["exports"] == [True] and pending_exports["started"] == []
    # An entry left pending by a command that had background work on: the gate runs here, now.
    pending = tmp_path / "pending-cache"
    load_exported_embedder(tmp_path / "b", None, HashEmbedder, cache_dir=pending, background=True)
    load_exported_embedder(tmp_path / "b", None, HashEmbedder, cache_dir=pending)
    assert pending_exports["gates"] == [[INT8]] and len(pending_exports["started"]) == 1
    assert find_export(export_roots(tmp_path / "b", pending), MODEL_ID, default_model_path())[0].name.endswith(  # type: ignore[index]
        onnx_embed.GATED)


def test_a_failing_gate_is_published_as_refused_and_not_run_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pending_exports: dict[str, list[object]]) -> None:
    cache = tmp_path / "cache"
    load_exported_embedder(tmp_path / "a", None, HashEmbedder, cache_dir=cache, background=True)

    def broken(*args: object) -> None:
        raise RuntimeError("NNCF cannot quantise this model")

    monkeypatch.setattr(onnx_embed, "_gate", broken)
    root = cache / "exports"
    onnx_embed.gate_export(root, MODEL_ID, default_model_path())
    folder, info = find_export([root], MODEL_ID, default_model_path())  # type: ignore[misc]
    assert folder.name.endswith(onnx_embed.GATED) and info["precisions"] == [FLOAT32]
    assert "NNCF cannot quantise" in info["gate"][INT8]["reason"]  # type: ignore[index]
    assert "nothing to gate" in onnx_embed.gate_export(root, MODEL_ID, default_model_path())
    load_exported_embedder(tmp_path / "a", None, HashEmbedder, cache_dir=cache, background=True)
    assert len(pending_exports["started"]) == 1


def test_a_background_job_runs_once_at_a_time_detached_and_logged(tmp_path: Path) -> None:
    from index import background

    root, release = tmp_path / "root", tmp_path / "release"
    waiting = ["-c", f"import pathlib, time\nwhile not pathlib.Path({str(release)!r}).exists(): time.sleep(0.05)\n"
                     "print('released')"]
    try:
        assert background.start(root, "job", waiting) and background.running(root)
        assert not background.start(root, "job", waiting)  # the first still holds the lock
    finally:
        release.touch()
    _wait_for(lambda: not background.running(root))
    assert "released" in background.log_path(root, "job").read_text()
    # The lock went with the job; the real job module runs (here with nothing to gate) and logs what it did.
    assert background.start(root, "gate", ["-m", "index.export_job", str(root), MODEL_ID, str(default_model_path())])
    _wait_for(lambda: not background.running(root))
    assert "nothing to gate" in background.log_path(root, "gate").read_text()
    background.log_path(root, "broken").mkdir()  # a job that cannot start: the command goes on, the lock is let go
    assert not background.start(root, "broken", ["-c", "pass"]) and not background.running(root)


def _wait_for(condition: object, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# ------------------------------------------------------------------------------ choosing a precision

def _info(precisions: list[str], mixing: bool) -> dict[str, object]:
    gate = {p: {"passed": p in precisions, "reason": "" if p in precisions else "R@1 loses 0.0100 (>= 0.005)",
                "mixing_passed": mixing} for p in (BFLOAT16, INT8)}
    return {"precisions": [FLOAT32, *precisions], "gate": gate}


def test_precision_follows_the_gate_and_refuses_unmeasured_mixing() -> None:
    passed = _info([BFLOAT16, INT8], mixing=True)
    assert choose_precision(passed, AUTO)[0] == INT8
    assert choose_precision(passed, FLOAT32)[0] == FLOAT32
    assert choose_precision(passed, BFLOAT16)[0] == BFLOAT16
    assert choose_precision(passed, AUTO, frozenset({FLOAT32}))[0] == INT8  # mixing measured safe
    refused = _info([BFLOAT16], mixing=True)
    precision, why = choose_precision(refused, INT8)
    assert precision == BFLOAT16 and "int8: R@1 loses" in why
    no_mix = _info([BFLOAT16, INT8], mixing=False)
    precision, why = choose_precision(no_mix, AUTO, frozenset({FLOAT32}))
    assert precision == FLOAT32 and "mixing int8" in why and "briefbot reindex" in why
    assert choose_precision(no_mix, AUTO, frozenset({INT8}))[0] == INT8
    assert choose_precision(_info([], mixing=False), AUTO)[0] == FLOAT32
    # Indexes from before the gate: bf16 was measured safe to mix with fp32 (make eval-precision).
    assert choose_precision({"precisions": [FLOAT32, BFLOAT16]}, BFLOAT16, frozenset({FLOAT32}))[0] == BFLOAT16


def test_questions_are_embedded_in_the_precision_that_made_the_passages() -> None:
    passed = _info([BFLOAT16, INT8], mixing=True)
    assert choose_precision(passed, LIKE_PASSAGES, frozenset({INT8}))[0] == INT8
    assert choose_precision(passed, LIKE_PASSAGES, frozenset({BFLOAT16}))[0] == BFLOAT16
    assert choose_precision(passed, LIKE_PASSAGES, frozenset({FLOAT32, INT8}))[0] == FLOAT32  # mixed: the common one
    assert choose_precision(passed, LIKE_PASSAGES)[0] == FLOAT32  # no index yet
    precision, why = choose_precision(_info([], mixing=False), LIKE_PASSAGES, frozenset({INT8}))  # made on another CPU
    assert precision == FLOAT32 and "int8: not verified" in why


# ------------------------------------------------------------------------------------------ the gate

def test_the_gate_set_and_scores() -> None:
    retrieval = int8.gate_set()
    assert len(retrieval.questions) == len(set(retrieval.passages)) == int8.GATE_QUESTIONS
    assert int8.check_set(retrieval) is None
    assert "has 2 questions" in (int8.check_set(generated_retrieval_set(2)) or "")
    assert not set(int8.calibration_texts()) & set(retrieval.passages)  # calibration never sees the gate's set
    rng = np.random.default_rng(3)
    passages = rng.normal(size=(500, 16)).astype(np.float32)
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    perfect = retrieval_scores(passages, passages)
    assert (perfect.recall_1, perfect.recall_10, perfect.mrr_10) == (1.0, 1.0, 1.0)
    noisy = passages + rng.normal(0, 0.4, passages.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    small = generated_retrieval_set(500)
    # The candidate embeds the passages badly and the questions as float32 does.
    result = int8.retrieval_gate(INT8, small, passages, passages,
                                 lambda texts: noisy if list(texts) == list(small.passages) else passages)
    assert not result.passed and "R@1 loses" in result.reason and not result.mixing_passed
    same = int8.retrieval_gate(INT8, small, passages, passages, lambda texts: passages)
    assert same.passed and same.mixing_passed


# ------------------------------------------------------------------------- the real export, end to end

@pytest.mark.integration
def test_real_export_once_per_machine_and_a_broken_calibration_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(int8, "gate_set", lambda: generated_retrieval_set(2))  # deliberately too small
    monkeypatch.setattr(onnx_embed, "native_int8", lambda: True)  # a candidate to gate, whatever this CPU has
    exports: list[Path] = []
    real = onnx_embed._export_and_verify
    monkeypatch.setattr(onnx_embed, "_export_and_verify", lambda tmp, *a: exports.append(tmp) or real(tmp, *a))
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger="briefbot"):
        first = Engine(tmp_path / "a", precision="auto", cache_dir=cache)
        first.ingest([SAMPLES / "000_cf58dd7b26a1b221.txt"])
    refusals = [r.getMessage() for r in caplog.records if "refused by the retrieval gate" in r.getMessage()]
    assert refusals and all("has 2 questions" in m for m in refusals)
    assert first.embedder.precision == FLOAT32  # type: ignore[attr-defined]
    assert Snapshot.open(tmp_path / "a").manifest.precision == FLOAT32
    second = Engine(tmp_path / "b", precision="bf16", cache_dir=cache)
    second.ingest([SAMPLES / "003_1f9207a099621c55.txt"])
    assert type(second.embedder).__name__ == "OnnxEmbedder" and len(exports) == 1
    assert Snapshot.open(tmp_path / "b").manifest.precision == FLOAT32  # bf16 refused by the gate too
    folder, info = find_export(export_roots(tmp_path / "b", cache), MODEL_ID, default_model_path())  # type: ignore[misc]
    assert info["accepted"] and info["precisions"] == [FLOAT32]
    candidates = {p for p, native in ((BFLOAT16, native_bf16()), (INT8, True)) if native}
    assert set(info["gate"]) == candidates  # every candidate was gated (and refused)


@pytest.mark.integration
def test_a_cold_ingest_embeds_with_the_float32_export_and_leaves_the_gate_to_the_background(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_embed, "native_int8", lambda: True)  # a candidate to defer, whatever this CPU has
    monkeypatch.setattr(int8, "gate_set", lambda: generated_retrieval_set(2))  # refused at once, nothing quantised
    started: list[list[str]] = []
    monkeypatch.setattr(onnx_embed.background_jobs, "start", lambda root, name, argv: not started.append(argv))
    cache = tmp_path / "cache"
    cold = Engine(tmp_path / "a", precision="auto", cache_dir=cache, background_export=True)
    cold.ingest([SAMPLES / "000_cf58dd7b26a1b221.txt"])
    assert type(cold.embedder).__name__ == "OnnxEmbedder" and cold.embedder.precision == FLOAT32  # type: ignore[attr-defined]
    assert Snapshot.open(tmp_path / "a").manifest.precision == FLOAT32
    folder, info = find_export(export_roots(tmp_path / "a", cache), MODEL_ID, default_model_path())  # type: ignore[misc]
    pending = info[onnx_embed.PENDING]
    assert info["accepted"] and INT8 in pending and len(started) == 1  # type: ignore[operator]
    assert not (folder / int8.INT8_MODEL).exists()  # nothing was quantised in the command the user waited for
    onnx_embed.gate_export(folder.parent, MODEL_ID, default_model_path())  # what the detached job does
    later = Engine(tmp_path / "b", precision="auto", cache_dir=cache, background_export=True)
    later.ingest([SAMPLES / "003_1f9207a099621c55.txt"])
    assert len(started) == 1 and type(later.embedder).__name__ == "OnnxEmbedder"
    gated, info = find_export(export_roots(tmp_path / "b", cache), MODEL_ID, default_model_path())  # type: ignore[misc]
    assert gated.name.endswith(onnx_embed.GATED) and onnx_embed.PENDING not in info
    assert list(info["gate"]) == pending  # type: ignore[call-overload]
    assert all("has 2 questions" in g["reason"] for g in info["gate"].values())  # type: ignore[attr-defined]
    assert Snapshot.open(tmp_path / "b").manifest.precision == FLOAT32  # int8 refused by the (too small) gate


class _Tagged(HashEmbedder):
    def __init__(self, precision: str) -> None:
        super().__init__()
        self.precision = precision


def test_the_manifest_records_int8_and_a_measured_mixture(tmp_path: Path) -> None:
    ingest_paths(tmp_path, [SAMPLES / "000_cf58dd7b26a1b221.txt"], lambda: _Tagged(INT8), "hash-fake")
    assert Snapshot.open(tmp_path).manifest.precision == INT8
    assert stored_precisions(tmp_path) == {INT8}
    ingest_paths(tmp_path, [SAMPLES / "003_1f9207a099621c55.txt"], lambda: _Tagged(FLOAT32), "hash-fake")
    assert Snapshot.open(tmp_path, "hash-fake").manifest.precision == "float32+int8"  # readable, not refused
    assert stored_precisions(tmp_path) == {FLOAT32, INT8}


def test_the_weights_digest_is_remembered_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-shot `briefbot ask` must not hash the model's 90 MB again: the digest is kept beside the cache."""
    from index import model_cache

    weights = tmp_path / "model"
    weights.mkdir()
    (weights / "model.safetensors").write_bytes(b"weights")
    memo = tmp_path / "cache" / "weights-digests.json"
    first = model_cache.weights_digest(weights, memo)
    model_cache._weights_digest.cache_clear()  # a new process: nothing memoised in memory

    def hashing_again(*_: object) -> str:
        raise AssertionError("hashed again")

    monkeypatch.setattr(model_cache, "_weights_digest", hashing_again)
    assert model_cache.weights_digest(weights, memo) == first
    (weights / "model.safetensors").write_bytes(b"other weights")  # changed weights are hashed anew
    with pytest.raises(AssertionError, match="hashed again"):
        model_cache.weights_digest(weights, memo)

"""A torch-free embedder: the same model exported to ONNX once per machine, run by OpenVINO.

The export happens locally (never a download) the first time a machine needs it, with torch.onnx.export
of the transformer + mean pooling + L2 normalisation. It is accepted only if OpenVINO's float32 vectors
match the PyTorch fp32 model on a fixed sample (cosine >= 0.999 on every text); otherwise the entry
records why and everything keeps using PyTorch. Where the CPU has native bf16 units the bfloat16 run
is checked too (>= 0.998); where it has int8 dot-product units NNCF quantises the export to int8. Both
must then pass the retrieval gate (index.int8) before ingest may use them: OpenVINO's bf16 and int8
kernels are what makes ingest fast (bench/ingest_speed.py). Tokenisation uses the `tokenizers` library
with the model's own tokenizer.json, so nothing here imports torch.

The float32 export and its verification take seconds; the gate (int8 quantisation, ~2400 texts embedded)
takes minutes. So a command that finds no export may make the float32 one, use it at once, and leave
the gate to a detached process (index.export_job): that publishes a second, complete entry, the gated
one, which later commands prefer (`background=True` in load_exported_embedder).

Entries live in the per-user cache (index.model_cache: keyed by weights, OpenVINO version and CPU), or,
when that cannot be written, in the data dir:

    <cache_dir>/exports/<entry>/   or   <data_dir>/models/<entry>/
        model.onnx  tokenizer.json  model-int8.xml/.bin  manifest.json (written last: files, checks, gate)
        compiled/   OpenVINO's cache of compiled models (cuts a one-shot `briefbot ask`'s start-up)
    <entry>-gated/  the same export with the gate's results, when the gate ran in the background
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index import background as background_jobs, int8
from index.embed import Embedder, SentenceTransformerEmbedder, model_id_for, model_path_for
from index.errors import BriefbotError
from index.model_cache import MANIFEST, entry_name, publish, scratch_folder, verified, weights_digest, writable, write_manifest
from index.openvino_runtime import openvino_runtime
from index.precision import AUTO, BFLOAT16, FLOAT32, INT8, LIKE_PASSAGES, cpu_signature, native_bf16, native_int8

__all__ = ["OnnxEmbedder", "load_exported_embedder", "export_onnx", "gate_export", "cached_onnx_embedder", "find_export",
           "export_roots", "export_target", "choose_precision", "VERIFY_SAMPLE", "MIN_COSINE", "MIN_COSINE_BF16",
           "GATED", "PENDING"]

MIN_COSINE = 0.999
MIN_COSINE_BF16 = 0.998
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
_EXPORT_VERSION = 4
# A question (about 20 tokens) runs on this many cores in one stream: on 2 cores its embedding took 9-11 ms
# against 12-14 ms on one, and bot replies 40 ms p50 against 47 ms, with 200 questions at once answered as
# fast (bench/bot_latency.py, docs/performance.md).
QUESTION_CORES = 2
# A question is padded to a multiple of this many tokens: OpenVINO compiles its kernels once per input shape
# (5 ms the first time a length is seen in float32, 11 ms in int8), so a few shapes serve every question.
QUESTION_TOKEN_STEP = 16
# The int8 model keeps some operations in floating point: bf16 ones where the CPU has native bf16.
_OPENVINO_PRECISION = {FLOAT32: "f32", BFLOAT16: "bf16", INT8: "bf16" if native_bf16() else "f32"}
_LOG = logging.getLogger("briefbot")
# Short and long, ASCII and not, names and numbers, one text far past the 256-token limit.
VERIFY_SAMPLE = (
    "What happened with Geneva?",
    "and terbium?",
    "Who controls rare earth processing?",
    "REMX fell 85% after the export licenses were suspended.",
    "China announced new export controls on seven heavy rare earth elements on April 4, 2025.",
    "“I don’t think anyone expected it,” said the trade representative — Jamieson Greer — in Geneva.",
    "Les négociations commerciales à Genève ont repris après une pause de trois semaines.",
    "Die Preise für Seltene Erden stiegen im dritten Quartal deutlich an.",
    "東京の市場で株価が上昇した。",
    "Lynas shipped its first heavy rare earth oxide from Malaysia, the company said on Tuesday. " * 30,
    "Markets",
    "The European Central Bank left interest rates unchanged, citing persistent core inflation "
    "and weaker growth forecasts for the euro area in the coming year.",
)


_EXPORTS = "exports"  # the per-user cache's folder of export entries
GATED = "-gated"  # suffix of the entry a background gate publishes beside the float32 one
PENDING = "gate_pending"  # manifest key: the candidate precisions whose gate has not run yet


def _openvino_version() -> str:
    return str(openvino_runtime().get_version())


def _entry(root: Path, model_id: str, model_path: Path) -> Path:
    # The digest is remembered in the per-user cache only: a data dir gets no files it did not ask for.
    memo = root.parent / "weights-digests.json" if root.name == _EXPORTS else None
    return root / entry_name(model_id, weights_digest(model_path, memo), _openvino_version(), cpu_signature())


def export_roots(data_dir: Path, cache_dir: Path | None) -> list[Path]:
    """Where exports are looked for, best first: the per-user cache, then the data dir (its fallback)."""
    return [*([cache_dir / _EXPORTS] if cache_dir else []), data_dir / "models"]


def export_target(data_dir: Path, cache_dir: Path | None) -> Path:
    """Where a new export goes: the per-user cache, or the data dir when the cache cannot be written."""
    if cache_dir is not None:
        if writable(cache_dir / _EXPORTS):
            return cache_dir / _EXPORTS
        _LOG.warning("model cache %s cannot be written; exporting into %s instead", cache_dir, data_dir / "models")
    return data_dir / "models"


def find_export(roots: Sequence[Path], model_id: str, model_path: Path) -> tuple[Path, dict[str, object]] | None:
    """The first complete, intact entry for these weights, this OpenVINO and this CPU (accepted or refused);
    in each root the gated entry wins over the float32 one it was made from."""
    for root in roots:
        folder = _entry(root, model_id, model_path)
        for candidate in (folder.with_name(folder.name + GATED), folder):
            manifest = verified(candidate)
            if manifest is not None and manifest.get("version") == _EXPORT_VERSION:
                return candidate, manifest
    return None


class OnnxEmbedder:
    """Embeds texts with an exported model.onnx and tokenizer.json, compiled by OpenVINO (no torch).

    `precision` "bfloat16" runs the matrix products in bf16, "int8" runs the NNCF-quantised model (outputs
    are float32 unit rows either way);
    `streams` 1 suits one short question at a time (one stream on up to `QUESTION_CORES` cores); one per core
    suits ingest: single-threaded streams fed batches asynchronously. Thread-safe (one `embed` at a time).
    """

    def __init__(self, folder: Path, model_id: str, precision: str = FLOAT32, streams: int = 1,
                 info: dict[str, Any] | None = None) -> None:
        from tokenizers import Tokenizer

        info = info if info is not None else json.loads((folder / MANIFEST).read_text())
        self.folder = folder
        self.model_id = model_id
        self.dimension = int(info["dimension"])
        self.precision = precision
        self.streams = streams
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=int(info.get("max_tokens", MAX_TOKENS)))
        # Pad each batch to its longest text (the shipped tokenizer.json pads everything to 128); a question
        # to the next QUESTION_TOKEN_STEP (padding is masked out of the mean: the vector does not change).
        self._tokenizer.enable_padding(pad_id=int(info.get("pad_id", 0)), pad_token=str(info.get("pad_token", "[PAD]")),
                                       pad_to_multiple_of=QUESTION_TOKEN_STEP if streams == 1 else None)
        compiled = _compile(folder, precision, streams)
        self._inputs = {name for port in compiled.inputs for name in port.get_names()}
        self._request = compiled.create_infer_request()
        self._streams = openvino_runtime().AsyncInferQueue(compiled, streams)
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.empty((0, self.dimension), np.float32)
        # Like sentence-transformers: stripped texts, batches of similar length (little padding).
        stripped = [str(t).strip() for t in texts]
        order = np.argsort([-len(t) for t in stripped], kind="stable")
        out = np.empty((len(texts), self.dimension), np.float32)
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        with self._lock:
            if len(batches) == 1:  # a query: no queue between it and the model
                out[batches[0]] = self._request.infer(self._feed(self._encode(stripped, batches[0])))[0]
            else:
                self._run_streams(stripped, batches, out)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def tokenize(self, text: str) -> dict[str, np.ndarray]:
        """One text as the model's inputs (NNCF's calibration feeds the model these)."""
        return self._feed(self._tokenizer.encode_batch([text]))

    def _feed(self, encodings: list) -> dict[str, np.ndarray]:
        feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        return {k: v for k, v in feed.items() if k in self._inputs}

    def _encode(self, texts: list[str], rows: np.ndarray) -> list:
        return self._tokenizer.encode_batch([texts[i] for i in rows])

    def _run_streams(self, texts: list[str], batches: list[np.ndarray], out: np.ndarray) -> None:
        """Every batch through the streams; the next batch is tokenised while the streams compute."""

        def done(request, rows: np.ndarray) -> None:  # type: ignore[no-untyped-def]
            out[rows] = request.get_output_tensor(0).data

        self._streams.set_callback(done)
        for rows in batches:
            self._streams.start_async(self._feed(self._encode(texts, rows)), rows)
        self._streams.wait_all()


def _compile(folder: Path, precision: str, streams: int):  # type: ignore[no-untyped-def]
    """The model compiled for this CPU; compiled blobs are cached beside it when the folder is writable.

    One stream: a question's latency, on up to `QUESTION_CORES` cores. More: as many single-threaded streams
    (ingest's throughput; on the shared 2-core machine 2.3x PyTorch fp32 where one 2-thread stream gave 1.2x:
    threads of one stream wait for each other whenever another process takes a core).
    """
    question = streams == 1
    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": _OPENVINO_PRECISION[precision],
                                 "INFERENCE_NUM_THREADS": min(QUESTION_CORES, os.cpu_count() or 1) if question else streams,
                                 "NUM_STREAMS": streams, "PERFORMANCE_HINT": "LATENCY" if question else "THROUGHPUT"}
    if os.access(folder, os.W_OK):
        config["CACHE_DIR"] = str(folder / "compiled")
    model = folder / (int8.INT8_MODEL if precision == INT8 else "model.onnx")
    return openvino_runtime().Core().compile_model(str(model), "CPU", config)


def choose_precision(info: dict[str, Any], setting: str, stored: frozenset[str] = frozenset()) -> tuple[str, str]:
    """(precision, why) for an index whose vectors were made in `stored` precisions.

    A precision is used only if the export verified it and the gate passed it; it joins an index in
    other precisions only if the gate measured that mixing loses nothing. `LIKE_PASSAGES` (questions) is the
    one precision `stored` holds, float32 when it holds several or none.
    """
    allowed = set(info.get("precisions", [FLOAT32]))
    if setting == LIKE_PASSAGES:
        (made,) = stored if len(stored) == 1 else (FLOAT32,)
        return (made, "") if made in allowed else (FLOAT32, f"{made}: not verified on this CPU")
    gates: dict[str, dict[str, object]] = info.get("gate", {})
    pending = set(info.get(PENDING, []))
    wanted = {AUTO: [INT8, BFLOAT16], INT8: [INT8, BFLOAT16], BFLOAT16: [BFLOAT16]}.get(setting, [])
    reasons = []
    for precision in wanted:
        if precision not in allowed:
            why = "its retrieval gate runs in the background" if precision in pending else "not verified on this CPU"
            reasons.append(f"{precision}: {gates.get(precision, {}).get('reason') or why}")
            continue
        mix = stored | {precision}
        # bf16 vectors made before the gate existed were measured safe to mix (make eval-precision).
        if len(mix) > 1 and not all(gates.get(p, {}).get("mixing_passed", p == BFLOAT16) for p in mix - {FLOAT32}):
            reasons.append(f"{precision}: this index holds {'+'.join(sorted(stored))} vectors and the gate measured "
                           f"that mixing {precision} into it loses; `briefbot reindex` rebuilds it in one precision")
            continue
        return precision, "; ".join(reasons)
    return FLOAT32, "; ".join(reasons)


def cached_onnx_embedder(roots: Sequence[Path], model_id: str, model_path: Path, precision: str = FLOAT32,
                         streams: int = 1, stored: frozenset[str] = frozenset()) -> OnnxEmbedder | None:
    """The verified export for this model if one is cached (None if none is, or it was refused).

    `precision` is a setting (auto, float32, bfloat16, int8); the embedder's `precision` says what it
    runs in (the manifest of the index records that). Falling back from an explicit int8 is logged.
    """
    found = find_export(roots, model_id, model_path)
    if found is None or not found[1].get("accepted"):
        return None
    folder, info = found
    chosen, why = choose_precision(info, precision, stored)
    if precision == INT8 and chosen != INT8:
        _LOG.warning("BRIEFBOT_PRECISION=int8 not used (%s); ingest runs in %s", why, chosen)
    try:
        return OnnxEmbedder(folder, model_id, chosen, streams, info)
    except Exception:  # a damaged compiled cache is not fatal: the caller falls back to PyTorch
        return None


def export_onnx(root: Path, model_id: str, model_path: Path, reference: object | None = None,
                gate: bool = True) -> tuple[bool, str]:
    """Export, verify against PyTorch fp32, quantise, gate, and publish the entry under `root`; (accepted, message).

    `reference` may be an already loaded fp32 SentenceTransformerEmbedder; a bf16 one is not used
    (the export must match the fp32 model), a fresh fp32 copy is loaded instead. A refused export is
    published too (its manifest says why), so it is not retried until the weights change.
    `gate=False` publishes the float32 export with its candidate precisions pending (`gate_export`).
    """
    started = time.perf_counter()
    final = _entry(root, model_id, model_path)
    tmp = scratch_folder(final)
    try:
        try:
            info = _export_and_verify(tmp, model_id, model_path, reference, gate)
        except Exception as error:  # noqa: BLE001 - any export failure means "keep using PyTorch"
            info = {"accepted": False, "reason": f"{type(error).__name__}: {error}"}
        if not info["accepted"]:
            shutil.rmtree(tmp)
            tmp.mkdir()
        shutil.rmtree(tmp / "compiled", ignore_errors=True)  # compiled from the temporary path; rebuilt on use
        info.update(version=_EXPORT_VERSION, model_id=model_id, weights=weights_digest(model_path),
                    openvino=_openvino_version(), cpu=cpu_signature(), seconds=round(time.perf_counter() - started, 1),
                    exported_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
        write_manifest(tmp, info)
        folder = publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _LOG.info("model export %s in %.0f s: %s", folder, info["seconds"], info.get("reason") or "accepted")
    if not info["accepted"]:
        return False, f"ONNX export refused ({info['reason']}); embedding uses PyTorch (delete {folder} to retry)"
    return True, f"ONNX model exported to {folder} (min cosine to PyTorch {info['min_cosine']:.5f})"


def gate_export(root: Path, model_id: str, model_path: Path) -> str:
    """Gate the pending precisions of the float32 entry under `root` and publish the gated entry beside it.

    The gated entry holds links to the float32 entry's files (copies across file systems) plus the int8
    model, so either can be removed without harming the other. Returns what was done, for the log.
    """
    started = time.perf_counter()
    base = _entry(root, model_id, model_path)
    info = verified(base)
    final = base.with_name(base.name + GATED)
    if info is None or not info.get(PENDING) or verified(final) is not None:
        return f"nothing to gate for {base}"
    tmp = scratch_folder(final)
    try:
        for name in ("model.onnx", "tokenizer.json"):
            _link_or_copy(base / name, tmp / name)
        info = {k: v for k, v in info.items() if k != "files"}
        candidates: list[str] = info.pop(PENDING)  # type: ignore[assignment]
        try:
            gates = _gate(tmp, model_id, info, candidates)
        except Exception as error:  # noqa: BLE001 - published as refused, so no later command starts it again
            reason = f"the gate failed: {type(error).__name__}: {error}"
            gates = {p: int8.GateResult(p, False, reason).as_json() for p in candidates}
        info["gate"] = gates
        info["precisions"] = [FLOAT32, *(p for p in candidates if gates[p]["passed"])]
        shutil.rmtree(tmp / "compiled", ignore_errors=True)
        info["gate_seconds"] = round(time.perf_counter() - started, 1)
        write_manifest(tmp, info)
        folder = publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return f"gated {folder} in {info['gate_seconds']:.0f} s: {', '.join(info['precisions'])} may be used"  # type: ignore[arg-type]


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _export_and_verify(tmp: Path, model_id: str, model_path: Path, reference: object | None,
                       gate: bool = True) -> dict[str, object]:
    """The export in `tmp`, checked against PyTorch fp32, with the precisions it may run in (`gate=False`:
    float32 now, the candidates recorded as pending)."""
    if not isinstance(reference, SentenceTransformerEmbedder) or reference.precision != FLOAT32:
        reference = SentenceTransformerEmbedder(model_path, model_id, FLOAT32)
    info = _export(reference, model_path, tmp)
    want = reference.embed(list(VERIFY_SAMPLE), batch_size=4)
    cosine = _min_cosine(want, OnnxEmbedder(tmp, model_id, FLOAT32, info=info))
    if not cosine >= MIN_COSINE:
        return {"accepted": False, "reason": f"min cosine to PyTorch {cosine:.5f} < {MIN_COSINE}"}
    info.update(accepted=True, min_cosine=cosine, precisions=[FLOAT32])
    candidates = []
    if native_bf16():
        info["min_cosine_bf16"] = bf16 = _min_cosine(want, OnnxEmbedder(tmp, model_id, BFLOAT16, info=info))
        if bf16 >= MIN_COSINE_BF16:
            candidates.append(BFLOAT16)
    if native_int8():
        candidates.append(INT8)
    if not gate and candidates:
        info[PENDING] = candidates
        return info
    info["gate"] = gates = _gate(tmp, model_id, info, candidates)
    info["precisions"] += [p for p in candidates if gates[p]["passed"]]  # type: ignore[operator]
    return info


def _gate(tmp: Path, model_id: str, info: dict[str, object], candidates: list[str]) -> dict[str, dict[str, object]]:
    """Each candidate precision measured by the retrieval gate (int8 quantised first); refusals are logged."""
    if not candidates:
        return {}
    retrieval = int8.gate_set()
    results: dict[str, int8.GateResult] = {}
    too_small = int8.check_set(retrieval)
    if too_small:
        results = {p: int8.GateResult(p, False, too_small) for p in candidates}
    else:
        streams = os.cpu_count() or 1
        fp32 = OnnxEmbedder(tmp, model_id, FLOAT32, streams, info)
        questions, reference = fp32.embed(list(retrieval.questions)), fp32.embed(list(retrieval.passages))
        for precision in candidates:
            if precision == INT8:
                int8.quantize_int8(tmp / "model.onnx", tmp, int8.calibration_texts(), fp32.tokenize)
            candidate = OnnxEmbedder(tmp, model_id, precision, streams, info)
            results[precision] = int8.retrieval_gate(precision, retrieval, questions, reference, candidate.embed)
    for result in results.values():
        if not result.passed:
            _LOG.warning("%s ingest refused by the retrieval gate: %s", result.precision, result.reason)
    return {p: r.as_json() for p, r in results.items()}


def _min_cosine(want: np.ndarray, candidate: OnnxEmbedder) -> float:
    return float(np.min(np.sum(want * candidate.embed(list(VERIFY_SAMPLE), batch_size=4), axis=1)))


def _export(reference: object, model_path: Path, target: Path) -> dict[str, object]:
    import warnings

    import torch

    transformer = reference.model[0]  # type: ignore[attr-defined]

    class Pooled(torch.nn.Module):
        """transformer → mean over real tokens → unit length, as the sentence-transformers pipeline."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    wrapper = Pooled(transformer.auto_model).eval()
    dummy = torch.ones(2, 8, dtype=torch.long)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper, (dummy, dummy, torch.zeros_like(dummy)), str(target / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                          "token_type_ids": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False, do_constant_folding=True)
    shutil.copyfile(model_path / "tokenizer.json", target / "tokenizer.json")
    max_tokens = int(getattr(reference.model, "max_seq_length", MAX_TOKENS) or MAX_TOKENS)  # type: ignore[attr-defined]
    tokenizer = transformer.tokenizer
    return {
        "dimension": reference.dimension,  # type: ignore[attr-defined]
        "max_tokens": max_tokens, "pad_id": int(tokenizer.pad_token_id or 0), "pad_token": str(tokenizer.pad_token or "[PAD]"),
        "torch": torch.__version__, "opset": 17,
    }


def load_exported_embedder(data_dir: Path, model: str | None, fallback: Callable[[], Embedder],
                           backend: str = "auto", *, precision: str = FLOAT32, streams: int = 1,
                           cache_dir: Path | None = None, stored: frozenset[str] = frozenset(),
                           background: bool = False) -> Embedder:
    """The verified ONNX export run by OpenVINO (no torch import) when possible, else `fallback()`.

    `backend` (BRIEFBOT_EMBED_BACKEND) = auto | openvino | torch. With auto/openvino a missing export is
    made now (once per machine, needs torch) into `cache_dir` (the data dir when that is None or cannot be
    written); a refused export is not retried until the weights change. The retrieval gate of its bf16/int8
    candidates (~2 min) runs now too, or with `background` (BRIEFBOT_BACKGROUND_EXPORT) in a detached
    process (index.export_job) while this command goes on in float32 (the float32 export takes seconds).
    Questions use `LIKE_PASSAGES` in one stream; ingest uses `precision` (a setting, see `choose_precision`) in a
    stream per core, given the precisions already in the index (`stored`).
    """
    if backend not in ("auto", "openvino", "torch"):
        raise BriefbotError(f"BRIEFBOT_EMBED_BACKEND={backend!r} is not one of auto, openvino, torch")
    if model == "hash" or backend == "torch":
        return fallback()
    model_id, path = model_id_for(model), model_path_for(model)
    roots = export_roots(data_dir, cache_dir)
    found = find_export(roots, model_id, path)
    if found is None:
        accepted, message = export_onnx(export_target(data_dir, cache_dir), model_id, path, gate=not background)
        if not accepted:
            _LOG.warning(message)
        found = find_export(roots, model_id, path)
    if found is not None and found[1].get(PENDING):
        _finish_gate(found[0], model_id, path, background)
    embedder = cached_onnx_embedder(roots, model_id, path, precision, streams, stored)
    return embedder if embedder is not None else fallback()


def _finish_gate(entry: Path, model_id: str, model_path: Path, background: bool) -> None:
    """Gate the float32 entry's pending precisions: now, or in a detached process started once (a lock)."""
    if not background:
        _LOG.info(gate_export(entry.parent, model_id, model_path))
        return
    job = f"{entry.name}{GATED}"
    command = ["-m", "index.export_job", str(entry.parent), model_id, str(model_path)]
    if background_jobs.start(entry.parent, job, command):
        _LOG.warning("preparing the faster bf16/int8 model in the background (once per machine, ~2 min; log: %s); "
                     "until then embedding runs in float32", background_jobs.log_path(entry.parent, job))

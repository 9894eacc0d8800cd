"""A torch-free embedder: the same model exported to ONNX once, run by OpenVINO.

The export happens locally (never a download) the first time it is needed — on the first ingest or
the first query — with torch.onnx.export of the transformer + mean pooling + L2 normalisation. It is
accepted only if OpenVINO's float32 vectors match the PyTorch fp32 model on a fixed sample (cosine
>= 0.999 on every text); otherwise a `refused.json` records why and everything keeps using PyTorch.
Where the CPU has native bf16 units the bfloat16 run is checked too (>= 0.998) and ingest uses it:
OpenVINO's bf16 kernels are what makes ingest fast (bench/run.py: ~3x PyTorch fp32 on AVX-512 BF16,
where PyTorch's own bf16 loses a third of its time in attention). Tokenisation uses the `tokenizers`
library with the model's own tokenizer.json, so nothing here imports torch.

    <data_dir>/models/<model_id>/
        model.onnx  tokenizer.json  export.json   (export.json written last: its presence = verified)
        compiled/   OpenVINO's cache of compiled models (cuts a one-shot `briefbot ask`'s start-up)
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

import numpy as np

from index.embed import Embedder, SentenceTransformerEmbedder, model_id_for, model_path_for
from index.errors import BriefbotError
from index.precision import BFLOAT16, FLOAT32, native_bf16

__all__ = ["OnnxEmbedder", "load_exported_embedder", "export_onnx", "cached_onnx_embedder", "onnx_folder",
           "VERIFY_SAMPLE", "MIN_COSINE", "MIN_COSINE_BF16", "export_refused"]

MIN_COSINE = 0.999
MIN_COSINE_BF16 = 0.998
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
_EXPORT_VERSION = 3
_OPENVINO_PRECISION = {FLOAT32: "f32", BFLOAT16: "bf16"}
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


def onnx_folder(data_dir: Path, model_id: str) -> Path:
    return data_dir / "models" / model_id


def _weights_fingerprint(model_path: Path) -> dict[str, int]:
    """Sizes and mtimes of the model's weight files: a changed model invalidates the export."""
    out = {}
    for path in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        stat = path.stat()
        out[path.name] = int(stat.st_size) * 1000 + int(stat.st_mtime) % 1000
    return out


class OnnxEmbedder:
    """Embeds texts with an exported model.onnx and tokenizer.json, compiled by OpenVINO (no torch).

    `precision` "bfloat16" runs the matrix products in bf16 (outputs are float32 unit rows either way);
    `threads` 1 suits one short query at a time, every core suits ingest. Thread-safe (one request at a time).
    """

    def __init__(self, folder: Path, model_id: str, precision: str = FLOAT32, threads: int = 1,
                 info: dict[str, object] | None = None) -> None:
        from tokenizers import Tokenizer

        info = info if info is not None else json.loads((folder / "export.json").read_text())
        self.folder = folder
        self.model_id = model_id
        self.dimension = int(info["dimension"])
        self.precision = precision
        self.threads = threads
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=int(info.get("max_tokens", MAX_TOKENS)))
        # Pad each batch to its longest text (the shipped tokenizer.json pads everything to 128).
        self._tokenizer.enable_padding(pad_id=int(info.get("pad_id", 0)), pad_token=str(info.get("pad_token", "[PAD]")))
        compiled = _compile(folder, precision, threads)
        self._inputs = {name for port in compiled.inputs for name in port.get_names()}
        self._request = compiled.create_infer_request()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.empty((0, self.dimension), np.float32)
        # Like sentence-transformers: stripped texts, batches of similar length (little padding).
        stripped = [str(t).strip() for t in texts]
        order = np.argsort([-len(t) for t in stripped], kind="stable")
        out = np.empty((len(texts), self.dimension), np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._run(self._tokenizer.encode_batch([stripped[i] for i in rows]))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def _run(self, encodings: list) -> np.ndarray:  # type: ignore[type-arg]
        feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        with self._lock:
            result = self._request.infer({k: v for k, v in feed.items() if k in self._inputs})
            return np.array(result[0], dtype=np.float32)


def _compile(folder: Path, precision: str, threads: int):  # type: ignore[no-untyped-def]
    """The model compiled for this CPU; compiled blobs are cached beside it when the folder is writable."""
    import openvino as ov

    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": _OPENVINO_PRECISION[precision],
                                 "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if os.access(folder, os.W_OK):
        config["CACHE_DIR"] = str(folder / "compiled")
    return ov.Core().compile_model(str(folder / "model.onnx"), "CPU", config)


def cached_onnx_embedder(data_dir: Path, model_id: str, model_path: Path, precision: str = FLOAT32,
                         threads: int = 1) -> OnnxEmbedder | None:
    """The verified export for this model if one is cached and still matches the model's weights.

    bfloat16 is granted only if the export verified it; otherwise the float32 run is returned
    (its `precision` says which, and the manifest records that).
    """
    folder = onnx_folder(data_dir, model_id)
    try:
        info = json.loads((folder / "export.json").read_text())
    except (OSError, ValueError):
        return None
    if info.get("version") != _EXPORT_VERSION or info.get("weights") != _weights_fingerprint(model_path):
        return None
    if precision == BFLOAT16 and BFLOAT16 not in info.get("precisions", []):
        precision = FLOAT32
    try:
        return OnnxEmbedder(folder, model_id, precision, threads, info)
    except Exception:  # a damaged cache is not fatal: the caller falls back to PyTorch
        return None


def export_refused(data_dir: Path, model_id: str, model_path: Path) -> bool:
    """True when an export of these very weights was already tried and refused."""
    try:
        info = json.loads((onnx_folder(data_dir, model_id) / "refused.json").read_text())
    except (OSError, ValueError):
        return False
    return info.get("weights") == _weights_fingerprint(model_path)


def export_onnx(data_dir: Path, model_id: str, model_path: Path, reference: object | None = None) -> tuple[bool, str]:
    """Export, verify against PyTorch fp32 and publish the ONNX model; (accepted, message).

    `reference` may be an already loaded fp32 SentenceTransformerEmbedder; a bf16 one is not used
    (the export must match the fp32 model), a fresh fp32 copy is loaded instead.
    """
    if not isinstance(reference, SentenceTransformerEmbedder) or reference.precision != FLOAT32:
        reference = SentenceTransformerEmbedder(model_path, model_id, FLOAT32)
    folder = onnx_folder(data_dir, model_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{model_id}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        info = _export(reference, model_path, tmp)
        want = reference.embed(list(VERIFY_SAMPLE), batch_size=4)
        cosine = _min_cosine(want, OnnxEmbedder(tmp, model_id, FLOAT32, info=info))
        if not cosine >= MIN_COSINE:
            return _refuse(folder, model_path, f"min cosine to PyTorch {cosine:.5f} < {MIN_COSINE}")
        info["min_cosine"] = cosine
        info["precisions"] = [FLOAT32]
        if native_bf16():
            info["min_cosine_bf16"] = bf16 = _min_cosine(want, OnnxEmbedder(tmp, model_id, BFLOAT16, info=info))
            if bf16 >= MIN_COSINE_BF16:
                info["precisions"].append(BFLOAT16)
        shutil.rmtree(tmp / "compiled", ignore_errors=True)  # compiled from the temporary path; rebuilt on use
        (tmp / "export.json").write_text(json.dumps(info, indent=2))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        return True, f"ONNX model exported to {folder} (min cosine to PyTorch {cosine:.5f})"
    except Exception as error:  # noqa: BLE001 - any export failure means "keep using PyTorch"
        return _refuse(folder, model_path, f"{type(error).__name__}: {error}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _refuse(folder: Path, model_path: Path, reason: str) -> tuple[bool, str]:
    """Record that these weights cannot be exported (not retried until they change); (False, message)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refused.json").write_text(json.dumps({"reason": reason, "weights": _weights_fingerprint(model_path)}))
    return False, f"ONNX export refused ({reason}); embedding uses PyTorch (delete {folder / 'refused.json'} to retry)"


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
        "version": _EXPORT_VERSION, "model_id": reference.model_id, "dimension": reference.dimension,  # type: ignore[attr-defined]
        "max_tokens": max_tokens, "pad_id": int(tokenizer.pad_token_id or 0), "pad_token": str(tokenizer.pad_token or "[PAD]"),
        "weights": _weights_fingerprint(model_path), "torch": torch.__version__, "opset": 17,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def load_exported_embedder(data_dir: Path, model: str | None, fallback: Callable[[], Embedder],
                           backend: str = "auto", *, precision: str = FLOAT32, threads: int = 1) -> Embedder:
    """The verified ONNX export run by OpenVINO (no torch import) when possible, else `fallback()`.

    `backend` (BRIEFBOT_EMBED_BACKEND) = auto | openvino | torch. With auto/openvino a missing export is
    made now (once per data dir, ~10 s, needs torch) and cached under <data_dir>/models/; a refused
    export is not retried until the model's weights change. Queries use float32 on one thread;
    ingest uses the resolved precision on every core.
    """
    if backend not in ("auto", "openvino", "torch"):
        raise BriefbotError(f"BRIEFBOT_EMBED_BACKEND={backend!r} is not one of auto, openvino, torch")
    if model == "hash" or backend == "torch":
        return fallback()
    model_id, path = model_id_for(model), model_path_for(model)
    found = cached_onnx_embedder(data_dir, model_id, path, precision, threads)
    if found is not None:
        return found
    if not export_refused(data_dir, model_id, path):
        accepted, message = export_onnx(data_dir, model_id, path)
        if not accepted:
            logging.getLogger("briefbot").warning(message)
        found = cached_onnx_embedder(data_dir, model_id, path, precision, threads)
    return found if found is not None else fallback()

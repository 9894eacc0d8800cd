"""A torch-free query embedder: the same model exported to ONNX once, run with ONNX Runtime.

The export happens locally (never a download) the first time it is needed — after an ingest, or on
the first query — with torch.onnx.export of the transformer + mean pooling + L2 normalisation. It is
accepted only if its vectors match the PyTorch fp32 model on a fixed sample (cosine >= 0.999 on every
text); otherwise a `refused.json` records why and queries keep using PyTorch. Tokenisation uses the
`tokenizers` library with the model's own tokenizer.json, so nothing here imports torch.

    <data_dir>/models/<model_id>/
        model.onnx  tokenizer.json  export.json   (export.json written last: its presence = verified)
model.onnx is saved already graph-optimised by ONNX Runtime (portable "extended" level), which halves
the session start-up of every one-shot `briefbot ask`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.precision import FLOAT32

__all__ = ["OnnxEmbedder", "export_onnx", "cached_onnx_embedder", "onnx_folder", "VERIFY_SAMPLE", "MIN_COSINE",
           "QUERY_BACKEND_ENV", "export_refused"]

MIN_COSINE = 0.999
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
QUERY_BACKEND_ENV = "BRIEFBOT_QUERY_BACKEND"  # auto (default) | onnx | torch
_EXPORT_VERSION = 2
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
    """Embeds texts with an exported model.onnx and tokenizer.json (no torch)."""

    def __init__(self, folder: Path, model_id: str, threads: int = 1, info: dict[str, object] | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        info = info if info is not None else json.loads((folder / "export.json").read_text())
        self.folder = folder
        self.model_id = model_id
        self.dimension = int(info["dimension"])
        self.precision = FLOAT32
        self.min_cosine = float(info.get("min_cosine", 0.0))  # type: ignore[arg-type]
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=int(info.get("max_tokens", MAX_TOKENS)))
        self._tokenizer.enable_padding(pad_id=int(info.get("pad_id", 0)), pad_token=info.get("pad_token", "[PAD]"))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Already optimised at export; skipping it here saves ~0.2 s per process start.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        self._session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.empty((0, self.dimension), np.float32)
        # Like sentence-transformers: stripped texts, batches of similar length.
        stripped = [str(t).strip() for t in texts]
        order = np.argsort([-len(t) for t in stripped], kind="stable")
        out = np.empty((len(texts), self.dimension), np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            encodings = self._tokenizer.encode_batch([stripped[i] for i in rows])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            out[rows] = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def cached_onnx_embedder(data_dir: Path, model_id: str, model_path: Path, threads: int = 1) -> OnnxEmbedder | None:
    """The verified export for this model if one is cached and still matches the model's weights."""
    folder = onnx_folder(data_dir, model_id)
    try:
        info = json.loads((folder / "export.json").read_text())
    except (OSError, ValueError):
        return None
    if info.get("version") != _EXPORT_VERSION or info.get("weights") != _weights_fingerprint(model_path):
        return None
    try:
        return OnnxEmbedder(folder, model_id, threads)
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
    from index.embed import SentenceTransformerEmbedder

    if not isinstance(reference, SentenceTransformerEmbedder) or reference.precision != FLOAT32:
        reference = SentenceTransformerEmbedder(model_path, model_id, FLOAT32)
    folder = onnx_folder(data_dir, model_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".tmp-{model_id}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        info = _export(reference, model_path, tmp)
        candidate = OnnxEmbedder(tmp, model_id, threads=1, info=info)
        want = reference.embed(list(VERIFY_SAMPLE), batch_size=4)
        got = candidate.embed(list(VERIFY_SAMPLE), batch_size=4)
        cosine = float(np.min(np.sum(want * got, axis=1)))
        if not cosine >= MIN_COSINE:
            folder.mkdir(parents=True, exist_ok=True)
            message = f"ONNX export refused: min cosine to PyTorch {cosine:.5f} < {MIN_COSINE}; queries use PyTorch"
            (folder / "refused.json").write_text(json.dumps({"min_cosine": cosine, "weights": info["weights"]}))
            return False, message
        info["min_cosine"] = cosine
        (tmp / "export.json").write_text(json.dumps(info, indent=2))
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        return True, f"ONNX query model exported to {folder} (min cosine to PyTorch {cosine:.5f})"
    except Exception as error:  # noqa: BLE001 - any export failure means "keep using PyTorch"
        return False, f"ONNX export failed ({type(error).__name__}: {error}); queries use PyTorch"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
    _optimise(target / "model.onnx")
    shutil.copyfile(model_path / "tokenizer.json", target / "tokenizer.json")
    max_tokens = int(getattr(reference.model, "max_seq_length", MAX_TOKENS) or MAX_TOKENS)  # type: ignore[attr-defined]
    tokenizer = transformer.tokenizer
    return {
        "version": _EXPORT_VERSION, "model_id": reference.model_id, "dimension": reference.dimension,  # type: ignore[attr-defined]
        "max_tokens": max_tokens, "pad_id": int(tokenizer.pad_token_id or 0), "pad_token": str(tokenizer.pad_token or "[PAD]"),
        "weights": _weights_fingerprint(model_path), "torch": torch.__version__, "opset": 17,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _optimise(path: Path) -> None:
    """Replace an exported model by its ONNX Runtime-optimised graph ("extended": no CPU-specific ops)."""
    import onnxruntime as ort

    optimised = path.with_suffix(".opt.onnx")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(optimised)
    options.log_severity_level = 3
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    os.replace(optimised, path)

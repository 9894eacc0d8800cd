"""Vector indexes behind one tiny interface: FAISS for real use, brute force as the reference."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

__all__ = ["VectorIndex", "FaissFlatIndex", "BruteForceIndex", "VECTOR_FILE"]

VECTOR_FILE = "vectors.faiss"


class VectorIndex(Protocol):
    """Inner-product search over unit vectors whose ids are their insertion order."""

    @property
    def count(self) -> int: ...

    def add(self, vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for one query vector; `allowed` restricts to those ids."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def save(self, folder: Path) -> None: ...


class FaissFlatIndex:
    """Exact inner-product search with FAISS."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self._index = index if index is not None else faiss.IndexFlatIP(dimension)

    @classmethod
    def load(cls, folder: Path) -> FaissFlatIndex:
        index = faiss.read_index(str(folder / VECTOR_FILE))
        return cls(index.d, index)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.count if allowed is None else len(allowed))
        if k <= 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep].astype(np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.vstack([self._index.reconstruct(int(i)) for i in ids]) if len(ids) else np.empty((0, self._index.d), np.float32)

    def save(self, folder: Path) -> None:
        faiss.write_index(self._index, str(folder / VECTOR_FILE))


class BruteForceIndex:
    """NumPy reference implementation: the conformance tests hold every backend to it."""

    def __init__(self, dimension: int) -> None:
        self._matrix = np.empty((0, dimension), dtype=np.float32)

    @property
    def count(self) -> int:
        return int(self._matrix.shape[0])

    def add(self, vectors: np.ndarray) -> None:
        self._matrix = np.vstack([self._matrix, np.asarray(vectors, dtype=np.float32)])

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        ids = np.arange(self.count) if allowed is None else np.asarray(allowed, dtype=np.int64)
        scores = self._matrix[ids] @ query.reshape(-1).astype(np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order], ids[order].astype(np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return self._matrix[np.asarray(ids, dtype=np.int64)]

    def save(self, folder: Path) -> None:
        raise NotImplementedError("the brute-force reference is for tests and is never persisted")

"""Vector indexes behind one tiny interface: FAISS for real use, brute force as the reference.

Structures (recorded in the manifest as `vector_index`):
  flat      exact inner product (IndexFlatIP), float32; used up to FLAT_MAX_PASSAGES passages.
  hnsw-sq8  HNSW graph over 8-bit scalar-quantised vectors (IndexHNSWSQ, inner product, M=32,
            efConstruction=160, efSearch=256): ~0.65 KB per 384-d passage instead of 1.5 KB (1M passages
            ≈ 626 MB). bench/ann.py (synthetic-from-real passages: means of 3–6 real sentence embeddings,
            held-out real sentences as queries) measured recall@10 against exact search 0.987 at 100k and
            0.980 at 1M, p50 ~0.9 / ~1.5 ms on one thread. The former M=24, efConstruction=80 graph needs
            efSearch=512 for 0.971 at 1M (~1.8 ms); generations built with it keep that efSearch.
            IVF4096,SQ8 was measured too and is worse on these vectors (0.916 at nprobe=256, 2.6 ms).
            Cost: building is ~2.4× slower than with M=24/efC=80 (1M: ~13 min instead of ~5 on 2 shared cores).
Approximate generations also keep the exact vectors as float16 (vectors.f16.npy, never loaded by a
reader) so a new generation or a change of structure never re-embeds and never compounds quantisation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

__all__ = ["VectorIndex", "FaissFlatIndex", "FaissHNSWIndex", "BruteForceIndex", "VECTOR_FILE", "SOURCE_FILE", "id_selector",
           "STRUCTURES", "FLAT", "HNSW", "FLAT_MAX_PASSAGES", "choose_structure", "new_index", "load_index"]

VECTOR_FILE = "vectors.faiss"
SOURCE_FILE = "vectors.f16.npy"
FLAT = "flat"
HNSW = "hnsw-sq8"
STRUCTURES = (FLAT, HNSW)
# Exact search up to here (one thread: ~0.6 ms at 10k passages, ~6–12 ms at 100k); HNSW beyond.
FLAT_MAX_PASSAGES = 20_000
# Measured by bench/ann.py at 100k and 1M passages (see the module docstring).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 160
HNSW_EF_SEARCH = 256
# Graphs built with fewer links (the former M=24, efConstruction=80) need a wider beam for recall@10 ≥ 0.95.
HNSW_EF_SEARCH_SPARSE = 512
# A filter that keeps fewer ids than this is searched exactly over the allowed rows (a graph walk
# that must skip most nodes misses results).
EXACT_FILTER_MAX = 20_000
SMALL_TRAINING_SET = 10_000


def _one_search_thread() -> None:
    """One query at a time gains nothing from OpenMP and loses a lot when the other core is busy
    (flat search at 10k: 0.6 ms on one thread, 8 ms on two with a busy core). The setting is per
    calling thread in libgomp, so a writer thread building an index keeps every core."""
    faiss.omp_set_num_threads(1)


def id_selector(allowed: np.ndarray, count: int) -> faiss.IDSelector:
    """A bitmap of the allowed ids: ~1 ms to build for 250k ids at 1M passages, where an IDSelectorBatch
    (a hash set) takes ~15 ms, per query. Ids outside 0..count-1 match nothing."""
    ids = np.asarray(allowed, dtype=np.int64)
    mask = np.zeros(count, dtype=bool)
    mask[ids[(ids >= 0) & (ids < count)]] = True
    bits = np.packbits(mask, bitorder="little")
    selector = faiss.IDSelectorBitmap(count, faiss.swig_ptr(bits))
    selector.referenced_objects = [bits]  # faiss keeps only a pointer: the bitmap lives with the selector
    return selector


def choose_structure(count: int) -> str:
    """The structure an index of `count` passages gets when nobody chose one."""
    return FLAT if count <= FLAT_MAX_PASSAGES else HNSW


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

    structure = FLAT

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self._index = index if index is not None else faiss.IndexFlatIP(dimension)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def source_vectors(self, folder: Path | None = None) -> np.ndarray:
        """Every stored vector, exactly (flat storage is the float32 vectors themselves)."""
        return self._index.reconstruct_n(0, self.count) if self.count else np.empty((0, self.dimension), np.float32)

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
        _one_search_thread()
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=id_selector(allowed, self.count))
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep].astype(np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        return _reconstruct(self._index, ids)

    def save(self, folder: Path, base_folder: Path | None = None) -> None:
        faiss.write_index(self._index, str(folder / VECTOR_FILE))


class FaissHNSWIndex:
    """Approximate inner-product search: HNSW over 8-bit scalar-quantised vectors."""

    structure = HNSW

    def __init__(self, dimension: int, index: faiss.Index | None = None, ef_search: int | None = None) -> None:
        if index is None:
            index = faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        # Not stored in the file (a loaded index says 40): nodes added to a loaded graph are linked as well
        # as those of the first build.
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        if ef_search is None:
            ef_search = HNSW_EF_SEARCH if index.hnsw.nb_neighbors(1) >= HNSW_M else HNSW_EF_SEARCH_SPARSE
        self._index = index
        self._index.hnsw.efSearch = ef_search
        self.ef_search = ef_search
        self._source: list[np.ndarray] = []  # float16 copies of what was added, saved as SOURCE_FILE

    @classmethod
    def load(cls, folder: Path, ef_search: int | None = None) -> FaissHNSWIndex:
        index = faiss.read_index(str(folder / VECTOR_FILE))
        return cls(index.d, index, ef_search)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        if not len(rows):
            return
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # graph construction uses every core
        if not self._index.is_trained:
            # Per-dimension ranges of the 8-bit codes; later additions reuse them (values outside are
            # clipped), so a small first batch gets a margin. A restructure retrains on everything.
            if len(rows) < SMALL_TRAINING_SET:
                faiss.downcast_index(self._index.storage).sq.rangestat_arg = 0.25
            self._index.train(rows)
        self._index.add(rows)
        self._source.append(rows.astype(np.float16))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.count if allowed is None else len(allowed))
        if k <= 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        _one_search_thread()
        if allowed is not None and len(allowed) <= EXACT_FILTER_MAX:
            ids = np.asarray(allowed, dtype=np.int64)
            scores = self.vectors(ids) @ q[0]
            top = np.argsort(-scores, kind="stable")[:k]
            return scores[top].astype(np.float32), ids[top]
        ef = max(self.ef_search, k)
        if allowed is None:
            params = faiss.SearchParametersHNSW(efSearch=ef)
        else:
            # The walk skips filtered-out nodes: widen the beam by how much is filtered out.
            share = len(allowed) / max(1, self.count)
            params = faiss.SearchParametersHNSW(sel=id_selector(allowed, self.count),
                                                efSearch=int(min(4096, ef / max(share, 1e-3))))
        scores, ids = self._index.search(q, k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep].astype(np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Decoded (8-bit) vectors: within ~1e-3 of the originals in cosine."""
        return _reconstruct(self._index, ids)

    def source_vectors(self, folder: Path | None = None) -> np.ndarray:
        """The exact vectors (as float16) this index was built from; `folder` holds its SOURCE_FILE."""
        parts = []
        if folder is not None and (folder / SOURCE_FILE).is_file():
            parts.append(np.load(folder / SOURCE_FILE, mmap_mode="r"))
        parts.extend(self._source)
        if not parts:
            return np.empty((0, self.dimension), np.float32)
        return np.vstack(parts).astype(np.float32)

    def save(self, folder: Path, base_folder: Path | None = None) -> None:
        """Write the index and the float16 source vectors (base generation's file + what was added)."""
        faiss.write_index(self._index, str(folder / VECTOR_FILE))
        parts = []
        if base_folder is not None and (base_folder / SOURCE_FILE).is_file():
            parts.append(np.load(base_folder / SOURCE_FILE, mmap_mode="r"))
        parts.extend(self._source)
        source = np.vstack(parts) if parts else np.empty((0, self.dimension), np.float16)
        if len(source) != self.count:
            raise ValueError(f"source vectors ({len(source)}) do not match the index ({self.count})")
        np.save(folder / SOURCE_FILE, source.astype(np.float16, copy=False))


def new_index(structure: str, dimension: int) -> FaissFlatIndex | FaissHNSWIndex:
    if structure == FLAT:
        return FaissFlatIndex(dimension)
    if structure == HNSW:
        return FaissHNSWIndex(dimension)
    raise ValueError(f"unknown vector index structure {structure!r}; known: {', '.join(STRUCTURES)}")


def load_index(folder: Path, structure: str) -> FaissFlatIndex | FaissHNSWIndex:
    """Open a saved index, checking that the file holds the structure the manifest names."""
    index = faiss.read_index(str(folder / VECTOR_FILE))
    actual = HNSW if isinstance(index, faiss.IndexHNSWSQ) else FLAT if isinstance(index, faiss.IndexFlatIP) else type(index).__name__
    if actual != structure:
        raise ValueError(f"{folder / VECTOR_FILE} holds a '{actual}' index but the manifest says '{structure}'")
    return FaissHNSWIndex(index.d, index) if structure == HNSW else FaissFlatIndex(index.d, index)


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


def _reconstruct(index: faiss.Index, ids: np.ndarray) -> np.ndarray:
    """Stored vectors of `ids` as float32 rows (decoded when the index quantises them)."""
    if not len(ids):
        return np.empty((0, index.d), np.float32)
    vectors: np.ndarray = index.reconstruct_batch(np.asarray(ids, dtype=np.int64))
    return vectors

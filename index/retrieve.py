"""Hybrid retrieval: dense (FAISS) and BM25 fused by reciprocal rank, a recency prior, diversity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from index.embed import Embedder
from index.records import Hit
from index.store import Snapshot

__all__ = ["Retriever", "RetrievalSettings", "SearchFilter"]


@dataclass(frozen=True)
class RetrievalSettings:
    """Knobs of the ranking; defaults measured with `python bench/tune_retrieval.py` (README, "Tuning")."""

    candidates: int = 50
    rrf_k: int = 60
    # Bonus for the newest brief, halving every `recency_half_life_days` of age relative to the
    # newest brief in the index. 0.0005 is about two ranks of RRF at the top: it reorders near-ties
    # (a newer brief on the same story wins) and cost 0.000 R@1 on the labelled briefs and 0.007 on
    # Wikinews title→article; 0.001 already cost 0.167 R@1 on the labelled briefs.
    recency_weight: float = 0.0005
    recency_half_life_days: float = 30.0
    # Relevance gate: a passage is cited when its cosine (all-MiniLM-L6-v2) reaches
    # `min_similarity` or it holds `min_term_coverage` of the query's IDF-weighted terms (names and
    # tickers like "REMX" or "Greer" embed poorly). Measured: every answerable question kept
    # (311/311, incl. 18/18 labelled), 99.0% of cross-corpus unanswerable ones rejected.
    min_similarity: float = 0.40
    min_term_coverage: float = 0.67
    near_duplicate: float = 0.92
    modes: tuple[str, ...] = ("dense", "lexical")


@dataclass(frozen=True)
class SearchFilter:
    """Restrict a search by publication date and/or to some articles."""

    published_from: date | None = None
    published_to: date | None = None
    article_ids: tuple[str, ...] | None = None

    def sql(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.published_from:
            clauses.append("a.published_at >= ?")
            params.append(self.published_from.isoformat())
        if self.published_to:
            clauses.append("a.published_at <= ?")
            params.append(self.published_to.isoformat())
        if self.article_ids is not None:
            clauses.append(f"a.id IN ({','.join('?' * len(self.article_ids))})")
            params.extend(self.article_ids)
        return " AND ".join(clauses) or "1", params

    @property
    def active(self) -> bool:
        return bool(self.published_from or self.published_to or self.article_ids is not None)


@dataclass
class _Candidate:
    chunk_id: int
    fused: float = 0.0
    dense: float | None = None
    lexical: float = 0.0
    coverage: float = 0.0


class Retriever:
    """Ranks the chunks of one snapshot for a query."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, settings: RetrievalSettings | None = None) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        newest = snapshot.query("SELECT MAX(published_at) FROM articles")[0][0]
        self._newest = date.fromisoformat(newest) if newest else None

    def search(self, query: str, k: int = 3, offset: int = 0, where: SearchFilter | None = None,
               recency_weight: float | None = None) -> list[Hit]:
        """The ranked, relevant, mutually distinct hits `offset … offset+k`."""
        allowed = self.snapshot.chunk_ids(*where.sql()) if where and where.active else None
        if allowed is not None and not len(allowed):
            return []
        query_vector = self.embedder.embed([query])[0]
        candidates = self._fuse(query, query_vector, allowed, max(self.settings.candidates, 4 * (offset + k)))
        hits = self._to_hits(candidates, recency_weight)
        return self._diverse(hits, offset + k)[offset:]

    def _fuse(self, query: str, vector: np.ndarray, allowed: np.ndarray | None, n: int) -> dict[int, _Candidate]:
        s = self.settings
        found: dict[int, _Candidate] = {}
        rankings = []
        if "dense" in s.modes:
            rankings.append(("dense", *self.snapshot.vectors.search(vector, n, allowed)))
        if "lexical" in s.modes:
            rankings.append(("lexical", *self.snapshot.lexical.search(query, n, allowed)))
        for kind, scores, ids in rankings:
            for rank, (score, chunk_id) in enumerate(zip(scores, ids)):
                c = found.setdefault(int(chunk_id), _Candidate(int(chunk_id)))
                c.fused += 1.0 / (s.rrf_k + rank + 1)
                setattr(c, kind, float(score))
        self._fill_dense(found, vector)
        self._fill_coverage(found, query)
        return {i: c for i, c in found.items() if self._relevant(c)}

    def _fill_dense(self, found: dict[int, _Candidate], vector: np.ndarray) -> None:
        """Lexical-only candidates still need their cosine for the relevance gate."""
        missing = np.array([i for i, c in found.items() if c.dense is None], dtype=np.int64)
        if len(missing):
            for chunk_id, score in zip(missing, self.snapshot.vectors.vectors(missing) @ vector):
                found[int(chunk_id)].dense = float(score)

    def _fill_coverage(self, found: dict[int, _Candidate], query: str) -> None:
        """Only lexical matches the dense gate would drop need their term coverage."""
        doubtful = [i for i, c in found.items() if c.lexical > 0 and (c.dense or 0.0) < self.settings.min_similarity]
        for chunk_id, (chunk, _) in self.snapshot.chunks(doubtful).items():
            found[chunk_id].coverage = self.snapshot.lexical.coverage(query, chunk.text)

    def _relevant(self, c: _Candidate) -> bool:
        s = self.settings
        return (c.dense or 0.0) >= s.min_similarity or c.coverage >= s.min_term_coverage

    def _to_hits(self, candidates: dict[int, _Candidate], recency_weight: float | None) -> list[Hit]:
        weight = self.settings.recency_weight if recency_weight is None else recency_weight
        rows = self.snapshot.chunks(list(candidates))
        hits = []
        for chunk_id, (chunk, citation) in rows.items():
            c = candidates[chunk_id]
            score = c.fused + weight * self._freshness(citation.published_at)
            hits.append(Hit(chunk_id, chunk, citation, score, c.dense or 0.0, c.lexical))
        return sorted(hits, key=lambda h: (-h.score, h.chunk_id))

    def _freshness(self, published: date | None) -> float:
        if self._newest is None:
            return 0.0
        if published is None:
            return 0.5  # undated: neither favoured nor punished against dated briefs
        age = max(0, (self._newest - published).days)
        return 0.5 ** (age / self.settings.recency_half_life_days)

    def _diverse(self, hits: list[Hit], limit: int) -> list[Hit]:
        """Greedy pick skipping near-copies of an already picked passage (syndicated or re-posted text)."""
        if not hits:
            return []
        vectors = self.snapshot.vectors.vectors(np.array([h.chunk_id for h in hits], dtype=np.int64))
        picked: list[int] = []
        for i in range(len(hits)):
            if picked and float(np.max(vectors[picked] @ vectors[i])) >= self.settings.near_duplicate:
                continue
            picked.append(i)
            if len(picked) == limit:
                break
        return [hits[i] for i in picked]

"""Which new briefs a topic subscriber gets, and which briefs are near-duplicates. Telegram-free.

A brief matches a topic when EITHER
- by meaning: the highest cosine between the topic's embedding and the brief's chunk vectors
  (chunks are embedded as "title\\nchunk", see index.ingest) is ≥ DENSE_THRESHOLD, OR
- by keyword: every informative topic term (stemmed, IDF-weighted; see LexicalIndex.coverage)
  occurs in the brief — coverage ≥ KEYWORD_THRESHOLD.

Thresholds were measured with the real model (all-MiniLM-L6-v2) on the labelled set
tests/fixtures/alerts/labelled_briefs.jsonl + the two sample briefs (tests/test_alerts_topics.py
re-measures and asserts them). Dense cosine (max over chunks), keyword coverage:

    topic → brief                                 dense   keyword  label
    "terbium" → terbium output brief              0.516   1.00     match
    "lithium brine in Chile" → terbium brief      0.229   0.00     no
    "lithium brine in Chile" → Chile brine brief  0.764   1.00     match
    "dysprosium" → dysprosium magnet brief        0.524   1.00     match
    "dysprosium" → Lynas (dysprosium oxide)       0.293   1.00     match (by keyword)
    "export licences" → licence approvals brief   0.531   1.00     match
    "export licences" → sample "trade truce"      0.273   1.00*    match (*licenses, US spelling)
    "Lynas" → Lynas Malaysia brief                0.424   1.00     match
    "copper mining in Peru" → Las Bambas brief    0.697   1.00     match
    "uranium" → Kazatomprom brief                 0.457   1.00     match
    lowest dense of a true match: 0.424 (Lynas); highest dense of a clear non-match: 0.329
    ("copper mining in Peru" → sample trade-truce brief), then 0.308, 0.292.

DENSE_THRESHOLD = 0.38 sits in that gap (0.329 < 0.38 < 0.424); keyword coverage = 1.0 (every
informative term present, British/US spellings folded) catches names and terms the small model
embeds weakly (Lynas, dysprosium mentioned in passing).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

__all__ = ["DENSE_THRESHOLD", "KEYWORD_THRESHOLD", "NEAR_DUPLICATE_COSINE", "NewBrief", "TopicMatcher",
           "TopicScore", "title_key", "load_new_briefs", "find_near_duplicate"]

DENSE_THRESHOLD = 0.38
KEYWORD_THRESHOLD = 0.999
# Near-duplicates: the same story re-published by another source. Measured with all-MiniLM on the
# first chunks: light edit 0.992, re-worded title and lead 0.961; the closest pair of DISTINCT
# briefs (the two US-China rare-earth samples) 0.857, next 0.611. 0.92 splits the gap.
NEAR_DUPLICATE_COSINE = 0.92
_MIN_TITLE_KEY = 24



def title_key(title: str) -> str:
    return " ".join(re.findall(r"\w+", unicodedata.normalize("NFKC", title).lower()))


@dataclass(frozen=True)
class NewBrief:
    """A brief read from the index for the alert cycle."""

    seq: int
    id: str
    title: str
    text: str
    highlights: tuple[str, ...]
    body: str
    published_at: date | None
    ingested_at: float
    source: str | None
    url: str | None
    vectors: np.ndarray  # unit vectors of its chunks, position order

    @property
    def first_vector(self) -> np.ndarray | None:
        return self.vectors[0] if len(self.vectors) else None


@dataclass(frozen=True)
class TopicScore:
    dense: float
    keyword: float

    @property
    def matches(self) -> bool:
        return self.dense >= DENSE_THRESHOLD or self.keyword >= KEYWORD_THRESHOLD


def load_new_briefs(snapshot: object, after_seq: int, limit: int = 1000) -> list[NewBrief]:
    """Articles with seq > after_seq (oldest first) with their chunk vectors."""
    import json

    rows = snapshot.query("SELECT * FROM articles WHERE seq > ? ORDER BY seq LIMIT ?", [after_seq, limit])  # type: ignore[attr-defined]
    briefs = []
    for r in rows:
        ids = [c[0] for c in snapshot.query("SELECT id FROM chunks WHERE article_seq = ? ORDER BY position", [r["seq"]])]  # type: ignore[attr-defined]
        vectors = snapshot.vectors.vectors(np.asarray(ids, dtype=np.int64)) if ids else np.empty((0, 0), np.float32)  # type: ignore[attr-defined]
        highlights = tuple(json.loads(r["highlights"] or "[]"))
        published = date.fromisoformat(r["published_at"]) if r["published_at"] else None
        ingested = datetime.fromisoformat(r["ingested_at"]).timestamp()
        text = "\n".join([r["title"], *highlights, r["body"]])
        briefs.append(NewBrief(r["seq"], r["id"], r["title"], text, highlights, r["body"], published, ingested,
                               r["source"], r["url"], np.asarray(vectors, dtype=np.float32)))
    return briefs


class TopicMatcher:
    """Scores briefs against topics; topic embeddings are cached (topics are few, briefs many)."""

    def __init__(self, embed: object, coverage: object) -> None:
        self._embed = embed  # callable: list[str] -> np.ndarray of unit vectors
        self._coverage = coverage  # callable: (query, text) -> float
        self._cache: dict[str, np.ndarray] = {}

    def prepare(self, topics: Sequence[str]) -> None:
        missing = [t for t in dict.fromkeys(topics) if t not in self._cache]
        if missing:
            vectors = self._embed(missing)  # type: ignore[operator]
            self._cache.update(zip(missing, np.asarray(vectors, dtype=np.float32)))

    def score(self, topic: str, brief: NewBrief) -> TopicScore:
        self.prepare([topic])
        vector = self._cache[topic]
        dense = float(np.max(brief.vectors @ vector)) if len(brief.vectors) and brief.vectors.shape[1] == len(vector) else 0.0
        # British and American spellings are one term in the coverage's tokens (index.spelling).
        keyword = float(self._coverage(topic, brief.text))  # type: ignore[operator]
        return TopicScore(round(dense, 4), round(keyword, 4))


def find_near_duplicate(brief: NewBrief, recent: Sequence[tuple[str, str, np.ndarray | None]]) -> str | None:
    """The id of an already-announced brief this one repeats (same story, another source), if any."""
    key = title_key(brief.title)
    first = brief.first_vector
    for article_id, other_key, vector in recent:
        if article_id == brief.id:
            return article_id
        if len(key) >= _MIN_TITLE_KEY and key == other_key:
            return article_id
        if first is not None and vector is not None and len(vector) == len(first):
            if float(first @ vector) >= NEAR_DUPLICATE_COSINE:
                return article_id
    return None

"""Records that flow one way through the engine: Article → Chunk → Hit → Answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

__all__ = ["Article", "Chunk", "Hit", "Citation", "Passage", "BriefSentence", "TimelineEntry", "Timeline", "Answer"]

# "Summarize", "catch me up" are asked as "What's new?" (searched as "What's"): those words are no rewrite to show.
_FRAMING = frozenset({"what", "s"})


@dataclass(frozen=True)
class Article:
    """One cleaned brief, ready to chunk. `body` excludes the title and the Highlights."""

    id: str
    title: str
    body: str
    highlights: tuple[str, ...] = ()
    published_at: date | None = None
    source: str | None = None
    author: str | None = None
    url: str | None = None
    path: str | None = None

    @property
    def full_text(self) -> str:
        """Highlights then body: what gets chunked and indexed."""
        parts = ["\n".join(self.highlights)] if self.highlights else []
        return "\n\n".join([*parts, self.body])


@dataclass(frozen=True)
class Chunk:
    """A passage of an article that fits the embedding model in one piece."""

    article_id: str
    position: int
    text: str


@dataclass(frozen=True)
class Citation:
    """Where a passage comes from, as a reader needs it to check the claim."""

    article_id: str
    title: str
    source: str | None
    author: str | None
    published_at: date | None
    url: str | None
    path: str | None

    def to_json(self) -> dict[str, str | None]:
        """JSON-ready dict with an ISO date."""
        return {
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "author": self.author,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "url": self.url,
            "path": self.path,
        }


@dataclass(frozen=True)
class Hit:
    """A chunk retrieved for a query, with the evidence that ranked it."""

    chunk_id: int
    chunk: Chunk
    citation: Citation
    score: float
    dense_score: float
    lexical_score: float


@dataclass(frozen=True)
class Passage:
    """A hit as shown to the reader: its rank and its most relevant sentence."""

    rank: int
    hit: Hit
    highlight: str


@dataclass(frozen=True)
class BriefSentence:
    """One sentence of the brief that opens an answer, and the passage (`rank`) it was taken from."""

    text: str
    rank: int


@dataclass(frozen=True)
class TimelineEntry:
    """One brief's step in a story: its date, the sentence saying what it adds, and its citation."""

    published_at: date
    text: str
    citation: Citation
    chunk_id: int  # the passage the sentence comes from
    rank: int  # the brief's place in the story: 1 = the first brief


@dataclass(frozen=True)
class Timeline:
    """A story across briefs (index/timeline.py): every brief about `subject` as of the question's date,
    oldest first; `shown` picks the entries displayed (at most 8: the first, the newest, the most
    distinct steps between) and `remaining` counts the entries this conversation has not shown yet."""

    subject: str
    entries: tuple[TimelineEntry, ...]
    shown: tuple[int, ...]
    remaining: int = 0

    @property
    def visible(self) -> tuple[TimelineEntry, ...]:
        return tuple(self.entries[i] for i in self.shown)


@dataclass(frozen=True)
class Answer:
    """The extractive answer to one (resolved) question."""

    query: str
    resolved_query: str
    passages: tuple[Passage, ...] = ()
    offset: int = 0
    notice: str | None = None
    citations: tuple[Citation, ...] = field(default=())
    # 2–4 sentences from the top passages, the answering one first (empty when nothing answers).
    brief: tuple[BriefSentence, ...] = ()
    # A story question's dated timeline (None otherwise); `story`: a subject with ≥ 2 dated briefs
    # (the bot's Timeline button), set on any answer.
    timeline: Timeline | None = None
    story: str | None = None
    # When nothing answers: the nearest passage of each brief nearest the question, offered by its brief's
    # title (not cited, not quoted; the bot's buttons open them).
    closest: tuple[Hit, ...] = ()
    # "link?", "sources?": the briefs the last answer cited, listed; no passage is quoted again.
    sources_only: bool = False

    @property
    def no_answer(self) -> bool:
        return not self.passages

    @property
    def rewritten(self) -> bool:
        """Whether the search added words to the question (a follow-up read in context: "Searching for: …"),
        not merely dropped its time words ("What's the latest?" is searched as "What's the") or framed a request
        for the newest briefs ("Summarize" is asked as "What's new?")."""
        asked = set(re.findall(r"\w+", self.query.lower())) | _FRAMING
        return not set(re.findall(r"\w+", self.resolved_query.lower())) <= asked

    def citation_numbers(self) -> dict[int, int]:
        """Passage rank → the number [n] of the brief it cites (citations are numbered from 1)."""
        numbers = {c.article_id: i for i, c in enumerate(self.citations, 1)}
        return {p.rank: numbers.get(p.hit.citation.article_id, 0) for p in self.passages}

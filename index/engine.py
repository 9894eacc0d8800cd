"""The briefing engine: one object the CLI and the bot share (no Telegram types here)."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.answer import build_answer
from index.conversation import (Conversation, Resolution, Turn, asks_for_summary, lean_on_context, on_topic, people_in, resolve,
                                topic_of)
from index.embed import Embedder, RememberingEmbedder, load_embedder, model_id_for
from index.lexical import tokenize
from index.onnx_embed import load_exported_embedder
from index.precision import LIKE_PASSAGES, parse_precision, resolve_precision
from index.records import Answer, Article, Chunk, Hit
from index.retrieve import RetrievalSettings, Retriever, SearchFilter
from index.speller import Speller
from index.store import Snapshot, current_folder, stored_precisions
from index.timeframe import TimeIntent, parse_time, timeless
from index.timeline import StoryQuestion, Storyteller, story_question, tell

if TYPE_CHECKING:
    from index.ingest import IngestReport, Progress, Provenance

__all__ = ["Engine", "CorpusStats", "MAX_QUESTION_CHARS"]

MAX_QUESTION_CHARS = 1000
_TAG = re.compile(r"<[^>]{0,200}>")
_HELLO = r"(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))(?: there)?"
# "hi", "ok", "thanks" on their own are no questions (searched, they were refused as off-topic); "Hi, what
# happened with Geneva?" is the question after the greeting.
_NO_QUESTION = re.compile(rf"^\W*(?:{_HELLO}|ok(?:ay)?|great|cool|got it|nice)\W*$", re.I)
_THANKS = re.compile(r"^\W*(?:(?:many )?thanks?(?: you)?(?: (?:so much|a lot))?|thx|ty|cheers)\W*$", re.I)
_GREETING = re.compile(rf"^\W*{_HELLO}\s*[,!.:;-]+\s*", re.I)
# "Explain why the truce failed", "tell me what Greer said": the question is the clause after the request.
_REQUEST_BEFORE_QUESTION = re.compile(
    r"^(?:(?:can|could|would|will) you\s+)?(?:please\s+)?(?:explain|describe|tell me|remind me|show me|help me understand|"
    r"I(?: want|'d like|’d like| would like) to know)\s+(?=(?:why|how|what|who|whom|whose|when|where|which|whether)\b)", re.I)
# "What did the WHO say?": capitals after the first word are the agency; "who" is a stop word, so the question was
# left with nothing to search and refused.
_WHO_THE_AGENCY = re.compile(r"(?<=\S )WHO\b")
# An "and X?" follow-up looks this far down for passages that name X.
_FOCUS_POOL = 20
# "Summarize", "catch me up", "give me the rundown": a request for a digest that names no subject asks for the newest
# briefs, as "what's new?" does (searched as worded, each was refused).
_DIGEST_ALONE = re.compile(
    r"^\W*(?:(?:can|could|would) you\s+)?(?:please\s+)?(?:summari[sz]e|recap|tl;?dr|(?:brief|update|catch|fill)\s+me(?:\s+(?:up|in))?|"
    r"(?:give|send|tell)\s+me\s+(?:a|an|the)\s+(?:quick\s+|short\s+)?(?:summary|recap|rundown|overview|update|briefing|digest|headlines)|"
    r"(?:a\s+|the\s+)?(?:summary|recap|rundown|overview|digest|headlines))"
    r"(?:\s+(?:please|for me))?(?:\s+(?:on|of)\s+(?:the\s+)?(?:briefs|news))?\W*$", re.I)
# "What do the briefs say about Lynas?" asks what about Lynas: read as a request for a quote ("say"), it
# opened on a quoted word in another passage.
_ABOUT_THE_BRIEFS = re.compile(r"^what (?:do|does|did|have|has) (?:the |your )?(?:briefs?|articles?|reports?|news|stories|sources) "
                               r"(?:say|said|tell|told|report|reported|write|wrote|have|had|cover|covered) (?:about|on|regarding) ", re.I)


@dataclass(frozen=True)
class _Found:
    """What a resolved question was searched as, the passages found, the window, and the notice above them."""

    query: str
    hits: list[Hit]
    where: SearchFilter
    notice: str | None = None


@dataclass(frozen=True)
class _Reading:
    """How a question was read: the story it asks for, if any, its resolution, and the passages found."""

    story: StoryQuestion | None
    resolution: Resolution
    found: _Found


@dataclass(frozen=True)
class CorpusStats:
    """What the index holds, for /sources and `briefbot ask` on an empty corpus."""

    articles: int
    passages: int
    sources: tuple[tuple[str, int], ...]
    oldest: date | None
    newest: date | None
    model: str


class Engine:
    """Ingest, search and answer over one data directory."""

    def __init__(self, data_dir: Path, model: str | None = None, embedder: Embedder | None = None,
                 settings: RetrievalSettings | None = None, today: Callable[[], date] = date.today,
                 precision: str = "auto", backend: str = "auto", cache_dir: Path | None = None,
                 background_export: bool = False) -> None:
        self.data_dir = data_dir
        self.model = model
        self.model_id = embedder.model_id if embedder else model_id_for(model)
        self._embedder = embedder
        # An injected embedder serves queries too; a configured model queries through ONNX when it can, one
        # embedder per set of precisions the index's passages were made in (`_question_embedder`).
        self._injected_query: Embedder | None = RememberingEmbedder(embedder) if embedder else None
        self._query_embedders: dict[frozenset[str], Embedder] = {}
        self.precision = precision  # auto | fp32 | bf16 | int8 (index.precision)
        self.backend = backend  # auto | openvino | torch (index.onnx_embed.load_exported_embedder)
        self.cache_dir = cache_dir  # the per-user model cache (index.model_cache); None: the data dir only
        # True: a missing export's bf16/int8 gate runs in a detached process, not in this command (index.export_job).
        self.background_export = background_export
        self.settings = settings or RetrievalSettings()
        self.today = today
        self._retriever: Retriever | None = None

    def with_settings(self, settings: RetrievalSettings) -> Engine:
        """The same engine (and loaded models) ranking with other settings, e.g. for `eval --compare`."""
        clone = copy.copy(self)
        clone.settings = settings
        clone._retriever = None
        return clone

    @property
    def embedder(self) -> Embedder:
        """Embeds passages: the ONNX export on OpenVINO in the resolved precision on every core, else PyTorch.

        Loaded on first use: `ingest` of unchanged files and `/latest` never pay for the model.
        """
        if self._embedder is None:
            self._embedder = self._load_embedder(stored_precisions(self.data_dir))
        return self._embedder

    def rebuild_embedder(self) -> Embedder:
        """The passage embedder for `briefbot reindex`: every vector is remade, so no stored precision constrains it."""
        return self._embedder or self._load_embedder(frozenset())

    def _load_embedder(self, stored: frozenset[str]) -> Embedder:
        fallback = resolve_precision(self.precision)
        return load_exported_embedder(self.data_dir, self.model, lambda: load_embedder(self.model, fallback),
                                      self.backend, precision=parse_precision(self.precision),
                                      streams=os.cpu_count() or 1, cache_dir=self.cache_dir, stored=stored,
                                      background=self.background_export)

    @property
    def query_embedder(self) -> Embedder:
        """Embeds questions and alert topics for the current index (`_question_embedder`)."""
        return self._question_embedder(stored_precisions(self.data_dir))

    def _question_embedder(self, stored: frozenset[str]) -> Embedder:
        """The export in the precision that made the passages (`LIKE_PASSAGES`) in one stream (on up to two cores),
        or, failing that, `embedder`."""
        if self._injected_query is not None:
            return self._injected_query
        if stored not in self._query_embedders:
            self._query_embedders[stored] = RememberingEmbedder(load_exported_embedder(
                self.data_dir, self.model, lambda: self.embedder, self.backend, precision=LIKE_PASSAGES,
                cache_dir=self.cache_dir, stored=stored, background=self.background_export))
        return self._query_embedders[stored]

    @property
    def retriever(self) -> Retriever:
        """The retriever over the newest generation, reopened when an ingest publishes a new one."""
        folder = current_folder(self.data_dir)
        if self._retriever is None or self._retriever.snapshot.folder != folder:
            # The old snapshot is not closed here: another thread may still be reading it;
            # its files stay readable until garbage collection closes them.
            snapshot = Snapshot.open(self.data_dir, self.model_id)
            self._retriever = Retriever(snapshot, self._question_embedder(snapshot.manifest.precisions), self.settings)
        return self._retriever

    @property
    def snapshot(self) -> Snapshot:
        return self.retriever.snapshot

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        """Add new articles from files and folders (see `index.ingest`)."""
        # Imported here: parsing, PDF and cleaning cost a one-shot question 25 ms it never uses.
        from index.ingest import ingest_paths

        return ingest_paths(self.data_dir, paths, lambda: self.embedder, self.model_id, progress)

    def publish(self, paths: Sequence[Path], provenance: Provenance | None = None) -> IngestReport:
        """Ingest where a stored article with the same id is replaced (an edited post), not skipped."""
        from index.ingest import ingest_paths

        return ingest_paths(self.data_dir, paths, lambda: self.embedder, self.model_id, replace=True,
                            provenance=provenance)

    def remove(self, keys: Sequence[str]) -> list[Article]:
        """Take articles (by id or link) out of the index: no longer cited, no longer alerted."""
        from index.ingest import remove_articles

        return remove_articles(self.data_dir, keys, self.model_id)

    def warm_up(self) -> None:
        """Load the model, open the index, and have the model compile the question lengths most questions take
        (the first question of each length costs 5-11 ms more, index.onnx_embed.QUESTION_TOKEN_STEP)."""
        self.ask("warm up", 1)
        for words in (20, 36):  # 22 and 38 tokens: the 32- and 48-token shapes
            self.retriever.embedder.embed([" ".join(["briefing"] * words)])

    def ask(self, question: str, k: int = 3, conversation: Conversation | None = None,
            as_of: date | None = None) -> tuple[Answer, Turn]:
        """Answer a question, resolving follow-ups against the conversation (which is not modified).

        `as_of`: answer from the index as it stood that day; briefs published later do not exist and
        "today", "this week", "latest" are read against it. Without it, today is today.
        """
        text = _tidy(question)
        if not text or _NO_QUESTION.match(text) or _THANKS.match(text):
            notice = ("You're welcome. Ask me anything else about the briefs." if text and _THANKS.match(text)
                      else "Ask a question about the briefs, e.g. “What happened with Geneva?”")
            return Answer(question, "", notice=notice), Turn(question, "")
        today = as_of or self.today()
        exists = SearchFilter(known_by=as_of)
        lexical = self.snapshot.lexical
        conversation = conversation or Conversation()
        reading = self._read(text, conversation, k, today, exists)
        if reading.resolution.kind == "sources":
            return self._sources(question, reading.resolution), Turn(question, "")
        # "What happend with Geneva?": the misspelt word weighed the most and refused it. Only a refused question
        # is respelled word by word: a right word the corpus lacks ("yolk") is never turned into another. A
        # misspelt name ("Jamison Greer") is respelled in any question: the rest may have found the wrong answer.
        if (reading.resolution.kind == "new"
                and (respelled := Speller(lexical).respell(text, names_only=bool(reading.found.hits))) != text
                and (again := self._read(respelled, conversation, k, today, exists)).found.hits):
            reading = again
        story, resolution, found = reading.story, reading.resolution, reading.found
        query, hits, where = found.query, found.hits, found.where
        answer = build_answer(question, query, hits, lexical.idf, resolution.offset,
                              found.notice if hits else _nothing_found(resolution),
                              asked=timeless(text) if resolution.kind == "topic" else None)
        if not hits and resolution.kind != "more":
            # Refused, yet the reader may have meant a brief worded otherwise ("the island territory" for
            # Puerto Rico): the nearest briefs are offered by title, never quoted as the answer.
            closest = self.retriever.closest(resolution.query, k, exists)  # time words too ("since the Swiss deal")
            answer = replace(answer, closest=tuple(closest))
        turn = _turn(question, query, resolution, k, answer, where, lexical.idf)
        if resolution.kind == "more" and resolution.previous:
            turn = replace(turn, people=tuple(dict.fromkeys(resolution.previous.people + turn.people)))
        # The story keeps to the question's window, unless nothing in it answered and the answer was widened.
        window = (where.published_from, where.published_to) if hits and not found.notice else (None, None)
        return tell(self.storyteller, answer, turn, resolution, story, as_of, window)

    def _read(self, text: str, conversation: Conversation, k: int, today: date, exists: SearchFilter) -> _Reading:
        """What the question asks (a story, a follow-up, a new question) and the passages that answer it."""
        lexical = self.snapshot.lexical
        story = story_question(text)  # "timeline of X" is searched as "What happened with X?"
        resolution = resolve(story.question if story else text, conversation, lexical.idf)
        if resolution.kind == "sources":  # nothing to search: the last answer's briefs
            return _Reading(None, resolution, _Found(resolution.query, [], exists))
        if resolution.kind == "window":  # "and before her trial?" asks for the last subject's story before it
            story = story_question(resolution.query)
        found = self._find(resolution, k, today, exists, story is not None)
        if resolution.kind == "new" and not found.hits:
            # "How many troops did its governor send?" says enough to be read alone; refused alone, it is
            # asked again with the last question's subject: an answerable question is not refused.
            leaning = lean_on_context(text, conversation, lexical.idf)
            if leaning and (again := self._find(leaning, k, today, exists)).hits:
                resolution, found = leaning, again
        if resolution.kind == "new" and story is None and (not found.hits or
                                                           found.hits[0].dense_score < self.settings.topic_similarity):
            # "how did the markets react?" after Liz Truss: alone it meets no passage closely; within the
            # conversation's topic it asks about hers.
            carried = on_topic(text, conversation, lexical.idf)
            if carried and carried.previous and (again := self._find(carried, k, today, exists)).hits:
                resolution, found = carried, replace(again, hits=self._about(carried.previous.topic, again.hits))
        return _Reading(story, resolution, found)

    def _sources(self, question: str, resolution: Resolution) -> Answer:
        """"link?", "sources?": the briefs the last answer cited, in its order; when it cited none, how to get some."""
        cited = resolution.previous.article_ids if resolution.previous else ()
        rows = self.snapshot.query(f"SELECT seq FROM articles WHERE id IN ({','.join('?' * len(cited))})",
                                   list(cited)) if cited else []
        by_id = {c.article_id: c for c in self.snapshot.citations([r[0] for r in rows]).values()}
        citations = tuple(by_id[i] for i in cited if i in by_id)
        if not citations:
            asked = "The last answer cited no brief" if resolution.previous else "Ask a question first"
            return Answer(question, "", notice=f"{asked}: every answer ends with its sources (title, publisher, date "
                                               "and link).")
        return Answer(question, resolution.query, citations=citations, sources_only=True)

    def _find(self, resolution: Resolution, k: int, today: date, exists: SearchFilter, story: bool = False) -> _Found:
        """The passages a resolved question is answered from, within its time window or widened from it."""
        lexical = self.snapshot.lexical
        intent, where = self._time_window(resolution, today, exists, story)
        has_subject = lexical.has_subject
        query = intent.query if has_subject(intent.query) else (intent.since_topic or intent.before_topic or intent.query)
        if not has_subject(query) and (intent.wants_latest or where.window):
            hits = self._newest_summaries(where, k, resolution.offset)
        else:
            focus = resolution.focus if resolution.focus and tokenize(resolution.focus) else None
            # "and insurance?" in the hurricane's topic: the passages naming insurance may rank below the first k.
            wide = max(k, _FOCUS_POOL) if focus else k
            hits = self.retriever.search(query, wide, resolution.offset, where, today, intent.wants_latest)
            if focus:
                # "and terbium?" asks about terbium: the passages that name it come first, and when what the
                # last question carried outweighs it in every passage found, terbium alone is searched.
                naming = self._naming(focus, hits)
                if naming.any():
                    hits = [hits[i] for i in np.argsort(~naming, kind="stable")][:k]
                else:
                    query = focus
                    hits = self.retriever.search(query, k, resolution.offset, where, today, intent.wants_latest)
        if not hits and where.window and resolution.kind not in ("more", "before"):
            # Time words narrow the search; they never turn an answerable question into a refusal:
            # the newest relevant briefs outside the window answer, under a line saying so.
            hits = (self.retriever.search(query, k, resolution.offset, exists, today, latest=True)
                    if has_subject(query) else self._newest_summaries(exists, k, resolution.offset))
            return _Found(query, hits, where, _widened(intent, where) if hits else None)
        if hits and (event := intent.since_topic or intent.before_topic) and not where.window:
            # "Since the Madrid meeting" and no dated brief reports it: the reader is told the answer is not bounded.
            return _Found(query, hits, where, f"No dated brief reports “{event}”; the answer covers every date:")
        return _Found(query, hits, where)

    def converse(self, conversation: Conversation, question: str, k: int = 3, as_of: date | None = None) -> Answer:
        """Ask and remember the turn."""
        answer, turn = self.ask(question, k, conversation, as_of)
        if turn.resolved_query:
            conversation.add(turn)
        return answer

    @property
    def storyteller(self) -> Storyteller:
        """Timelines over the current snapshot (index/timeline.py)."""
        retriever = self.retriever
        return Storyteller(retriever.snapshot, retriever.embedder)

    def _time_window(self, resolution: Resolution, today: date, exists: SearchFilter,
                     story: bool = False) -> tuple[TimeIntent, SearchFilter]:
        previous = resolution.previous
        if resolution.kind == "before" and previous and (earliest := _day(previous.earliest)):
            return TimeIntent(resolution.query), replace(exists, published_to=earliest - timedelta(days=1))
        if resolution.kind == "after" and previous and (newest := self._newest_day(previous.article_ids)):
            start = newest + timedelta(days=1)
            return TimeIntent(resolution.query, start, phrase="since then"), replace(exists, published_from=start)
        if resolution.kind in ("more", "bare") and previous:  # asked of the last question, within its dates
            return TimeIntent(resolution.query), replace(exists, published_from=_day(previous.published_from),
                                                         published_to=_day(previous.published_to))
        intent = parse_time(resolution.query, today, story)
        where = replace(exists, published_from=intent.published_from, published_to=intent.published_to)
        if event := intent.since_topic or intent.before_topic:
            # The event searched with the question's subject: "since her sentencing" is Griner's.
            anchor = self.retriever.first_report(event, intent.query, exists)
            day = anchor.citation.published_at if anchor else None
            if anchor and day and intent.before_topic:
                where = replace(exists, published_to=day - timedelta(days=1))
            elif anchor and day:
                where = replace(exists, published_from=day, article_ids=self._articles_after(anchor))
        return intent, where

    def _newest_day(self, article_ids: Sequence[str]) -> date | None:
        """The newest publication day among these briefs (None when none is dated)."""
        if not article_ids:
            return None
        marks = ",".join("?" * len(article_ids))
        return _day(self.snapshot.query(f"SELECT MAX(published_at) FROM articles WHERE id IN ({marks})", list(article_ids))[0][0])

    def _about(self, topic: str, hits: list[Hit]) -> list[Hit]:
        """The passages that hold at least half the topic's term weight ("Ian" of "Hurricane Ian"), when any do: the
        others answer the question about something else ("125 people died" in a stadium crush)."""
        lexical = self.snapshot.lexical
        ids = np.array([hit.chunk_id for hit in hits], np.int64)
        holding = lexical.weighted_presence(lexical.term_weights(topic), ids) >= 0.5
        return [hit for hit, held in zip(hits, holding) if held] or hits

    def _naming(self, text: str, hits: Sequence[Hit]) -> np.ndarray:
        """For each hit, whether its passage holds every term of `text` (read from the posting lists)."""
        terms = {t: 1.0 for t in tokenize(text)}
        ids = np.array([hit.chunk_id for hit in hits], np.int64)
        return self.snapshot.lexical.weighted_presence(terms, ids) >= 1.0

    def _articles_after(self, anchor: Hit) -> tuple[str, ...]:
        rows = self.snapshot.query("SELECT id FROM articles WHERE published_at >= ? AND id != ?",
                                   [anchor.citation.published_at.isoformat(), anchor.citation.article_id])  # type: ignore[union-attr]
        return tuple(r[0] for r in rows)

    def _newest_summaries(self, where: SearchFilter, k: int, offset: int) -> list[Hit]:
        """"What's new?" with no subject: the opening passage of the newest briefs."""
        condition, params = where.sql()
        rows = self.snapshot.query(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.seq = c.article_seq WHERE c.position = 0 AND {condition} "
            "ORDER BY a.published_at DESC, a.seq DESC LIMIT ? OFFSET ?", [*params, k, offset])
        found = self.snapshot.chunks([r[0] for r in rows])
        return [Hit(r[0], *found[r[0]], score=0.0, dense_score=0.0, lexical_score=0.0) for r in rows]

    def latest(self, n: int = 5) -> list[Article]:
        """The newest briefs by publication date (undated ones last, newest ingested first)."""
        return self.snapshot.articles(order="a.published_at IS NULL, a.published_at DESC, a.seq DESC", limit=n)

    def article(self, article_id: str) -> Article | None:
        return self.snapshot.article(article_id)

    def context(self, chunk_id: int) -> list[Chunk]:
        """The passage with its neighbours in the same article, for "show more of this brief"."""
        rows = self.snapshot.query(
            "SELECT n.id FROM chunks c JOIN chunks n ON n.article_seq = c.article_seq "
            "AND n.position BETWEEN c.position - 1 AND c.position + 1 WHERE c.id = ? ORDER BY n.position", [chunk_id])
        found = self.snapshot.chunks([r[0] for r in rows])
        return [found[r[0]][0] for r in rows]

    def stats(self) -> CorpusStats:
        snap = self.snapshot
        sources = snap.query("SELECT COALESCE(source, 'unknown') AS s, COUNT(*) FROM articles GROUP BY s ORDER BY 2 DESC")
        oldest, newest = snap.query("SELECT MIN(published_at), MAX(published_at) FROM articles")[0]
        return CorpusStats(snap.manifest.articles, snap.manifest.count, tuple((r[0], r[1]) for r in sources),
                           _day(oldest), _day(newest), snap.manifest.model)


def _tidy(question: str) -> str:
    """Strip markup, a greeting or request before the question, "what do the briefs say" and excess whitespace
    ("summarize" alone asks what's new); a 10,000-character paste is cut to what matters."""
    text = _GREETING.sub("", re.sub(r"\s+", " ", _TAG.sub(" ", question)).strip())
    text = _REQUEST_BEFORE_QUESTION.sub("", text)
    if _DIGEST_ALONE.match(text) and not asks_for_summary(text):  # "tl;dr" is read in the conversation
        return "What's new?"
    text = _WHO_THE_AGENCY.sub("World Health Organization", text)
    return _ABOUT_THE_BRIEFS.sub("What about ", text)[:MAX_QUESTION_CHARS]


def _day(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _turn(question: str, query: str, resolution: Resolution, k: int, answer: Answer, where: SearchFilter,
          idf: Callable[[str], float]) -> Turn:
    hits = [passage.hit for passage in answer.passages]
    return Turn(
        question=question, resolved_query=query, offset=resolution.offset, k=k,
        article_ids=tuple(dict.fromkeys(h.citation.article_id for h in hits)),
        people=people_in(query, [h.chunk.text for h in hits], answer.brief[0].text if answer.brief else ""),
        published_from=where.published_from.isoformat() if where.published_from else None,
        published_to=where.published_to.isoformat() if where.published_to else None,
        topic=topic_of(query, resolution, idf))


def _widened(intent: TimeIntent, where: SearchFilter) -> str:
    """The line that opens an answer found outside the window the question asked for."""
    phrase = intent.phrase or "that period"
    said = phrase if phrase.startswith(("since", "before")) else f"from {phrase}"
    others = "the closest earlier briefs" if where.published_to is None else "the closest briefs from other dates"
    return f"Nothing {said}; {others}:"


def _nothing_found(resolution: Resolution) -> str:
    if resolution.kind == "more":
        return "No more relevant passages for that question."
    return "Nothing in the briefs answers this closely enough. Try other words, or /latest for the newest briefs."

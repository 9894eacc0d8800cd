"""Story questions answered as a dated timeline across briefs (issue 19), without an LLM.

"What happened with X?", "catch me up on X", "timeline of X" ask for the story of X. The story is
every dated brief ABOUT X as of the question's date (a brief that mentions X in passing, or another
storm with a similar name, is not), one entry per brief, oldest first, each with the sentence that
says what that brief adds.

Membership reads only what the index stores: each passage's vector (never re-embedded), its text
and its brief's title. A brief belongs when enough of it is about X: its title names X, a share of
its passages name X, and its passages' meaning is close to X (`StorySettings`, measured with
`python bench/tune_timeline.py` on tests/data/stories_dev.jsonl).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from index.brief import speaks_to_reader, stands_alone
from index.chunk import split_sentences
from index.conversation import Resolution, Turn
from index.embed import Embedder
from index.lexical import frames_question, name_terms, tokenize, weighted_share
from index.records import Answer, Citation, Timeline, TimelineEntry
from index.retrieve import SearchFilter
from index.store import Snapshot
from index.timeframe import timeless

__all__ = ["StoryQuestion", "story_question", "StorySettings", "StoryBrief", "Storyteller", "choose_shown",
           "tell", "MAX_SHOWN", "MAX_ENTRY_WORDS"]

MAX_SHOWN = 8
MAX_ENTRY_WORDS = 30

_SUBJECT = r"(?P<subject>.+?)"
# What a reader adds after the subject: "…so far?", "…to me like I'm five", "…in one line, please". Cut off once
# before the forms are matched (written into each form, it tripled their compile time: 14 ms of every cold start).
_TAIL = re.compile(r"(?:\s+(?:so far|lately|recently|until now|to date))?(?:\s+(?:to|for)\s+me)?"
                   r"(?:\s+like\s+I(?:'m|’m|\s+am)\s+(?:five|5|a child|a kid))?"
                   r"(?:\s+in\s+(?:one|a|a few|two|three|\d+)\s+(?:line|sentence|word|paragraph|bullet)s?)?"
                   r"(?:\s*,?\s*(?:please|briefly|quickly))?\s*[?.!]*\s*$", re.I)
_PLEASE = r"(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?"
# The things a reader asks to be given about a subject: "an update on X", "the rundown on X".
_DIGEST = (r"(?:quick\s+|short\s+|brief\s+)?(?:summary|recap|rundown|run-down|overview|update|briefing|lowdown|digest|"
           r"round-?up|tl;?dr|background|status|key points|details|info(?:rmation)?)")
_STORY_FORMS = [re.compile(rf"^{form}$", re.I) for form in (
    rf"(?:so\s*,?\s*)?what(?:'s|’s|s| is| has)?\s+(?:been\s+)?happen(?:ed|ing)\s+(?:with|to|over|around|regarding)\s+{_SUBJECT}",
    rf"what(?:'s|’s|s| is)\s+(?:been\s+)?(?:going on|up)\s+(?:with|in|at|over|around)\s+{_SUBJECT}",
    rf"how\s+(?:did|has|have)\s+{_SUBJECT}\s+(?:unfold(?:ed)?|develop(?:ed)?|play(?:ed)? out|evolve[d]?)",
    rf"{_PLEASE}(?:catch|fill)\s+me\s+(?:up\s+on|in\s+on)\s+{_SUBJECT}",
    rf"{_PLEASE}(?:bring|get)\s+me\s+up\s+to\s+speed\s+on\s+{_SUBJECT}",
    rf"(?:(?:show|give)\s+me\s+)?(?:a|the)?\s*(?:timeline|chronology|story)\s+(?:of|for|on|about)\s+{_SUBJECT}",
    rf"/?timeline(?:@\w+)?\s*:?\s+{_SUBJECT}",
    # Requests, which searched as worded were refused: "Summarize the Geneva talks", "Brief me on Lynas".
    rf"{_PLEASE}(?:summari[sz]e|recap|outline|explain|describe)\s+{_SUBJECT}",
    rf"{_PLEASE}(?:brief|update|remind)\s+me\s+(?:on|about|of)\s+{_SUBJECT}",
    rf"{_PLEASE}(?:walk|talk|take)\s+me\s+through\s+{_SUBJECT}",
    rf"{_PLEASE}(?:show|find|get)\s+me\s+{_SUBJECT}",
    rf"{_PLEASE}(?:remind|tell)\s+me\s+(?:what|how)\s+(?:happened|went|unfolded)\s+(?:with|to|in|at)\s+{_SUBJECT}",
    rf"{_PLEASE}(?:give|send|tell)\s+me\s+(?:a|an|the)\s+{_DIGEST}\s+(?:of|on|about|for|regarding|with)\s+{_SUBJECT}",
    rf"I(?:'d|’d|\s+would)\s+like\s+(?:a|an|the)\s+{_DIGEST}\s+(?:of|on|about|for|with)\s+{_SUBJECT}",
    rf"(?:any\s+|the\s+)?(?:{_DIGEST}|updates|developments|everything)\s+(?:on|about|of|for|regarding|with)\s+{_SUBJECT}",
    rf"(?:tl;?dr)\s*(?:[:,-]\s*|\s+(?:on|of|for)\s+)?{_SUBJECT}",
    rf"where\s+(?:do|does|did)\s+{_SUBJECT}\s+stand(?:\s+now)?",
    rf"(?:has|did)\s+anything\s+(?:changed|happened)\s+(?:with|to|on|in|at|for)\s+{_SUBJECT}",
    rf"(?:{_PLEASE}help\s+me\s+understand|I\s+want\s+to\s+know(?:\s+more)?\s+about|"
    rf"I(?:'d|’d|\s+would)\s+like\s+to\s+know(?:\s+more)?\s+about|what\s+should\s+I\s+know\s+about|"
    rf"{_PLEASE}tell\s+me\s+(?:everything\s+)?about)\s+{_SUBJECT}",
)]
# What "explain that", "summarize the last answer" or "recap more" point at is the conversation, not a story;
# "explain why the truce failed" asks a question of its own.
_NOT_SUBJECTS = frozenset(tokenize("more again above previous last answer answers passage passages result results "
                                   "source sources citation citations link links day week weekend month year"))
_ASKS_ITSELF = re.compile(r"^(?:why|how|what|who|whom|whose|when|where|which|whether|if)\b", re.I)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)


@dataclass(frozen=True)
class StoryQuestion:
    """A question that asks for the story of `subject`; `question` is how to search for it."""

    subject: str

    @property
    def question(self) -> str:
        return f"What happened with {self.subject}?"


def story_question(text: str) -> StoryQuestion | None:
    """The story a question asks for, or None for any other question ("what did Greer say?")."""
    text = _TAIL.sub("", " ".join(text.split()), count=1)
    for form in _STORY_FORMS:
        match = form.match(text)
        if match:
            subject = _LEADING_ARTICLE.sub("", match.group("subject").strip(" ,;:")).strip()
            if _names_a_subject(subject):
                return StoryQuestion(subject)
    return None


def _names_a_subject(words: str) -> bool:
    """False for what a story cannot be about: a question of its own, the conversation, or only time words
    ("summarize this week's briefs" asks for the newest briefs)."""
    if _ASKS_ITSELF.match(words):
        return False
    untimed = timeless(words)
    return any(not frames_question(t) and t not in _NOT_SUBJECTS for t in tokenize(untimed))


@dataclass(frozen=True)
class StorySettings:
    """When a brief is about the subject, measured on the labelled stories (bench/tune_timeline.py)."""

    # Briefs considered: those holding one of the subject's best passages, dense or BM25 (200 → 80: same
    # coverage 0.961, precision 0.952 → 0.961, lookalikes 0.029 → 0.019 on the dev stories).
    candidates: int = 80
    # The Timeline button only asks whether two briefs belong, and a story's briefs are among the nearest:
    # its check reads the briefs of the best 40 passages (the same decision as 80 on all 95 dev and story
    # questions; 20 or 30: 94 of 95), half the work at 100k passages.
    button_candidates: int = 40
    # A term at least this rare (IDF) is one of the subject's names: "Ian", "Griner", "Artemis".
    name_idf: float = 3.5
    # about = title_weight × (title names X) + share of passages naming X + similarity_weight × the
    # best passage's cosine to X; a brief belongs at `threshold` or above. Measured on the 12 dev
    # stories (bench/tune_timeline.py), passages naming X read from the BM25 posting lists (title
    # included): 0.5 / 1.0 / 1.1 → coverage 0.971, precision 0.952, lookalikes 0.038 (0.25 / 1.0 / 1.0:
    # 0.961 / 0.943 / 0.038; 1.0 / 0.5 / 1.1: 0.951 / 0.961 / 0.029; threshold 0.9: 0.981 / 0.927 / 0.046).
    title_weight: float = 0.5
    similarity_weight: float = 1.0
    threshold: float = 1.1
    # A passage names X when it holds this share of X's name weight (all of it for one name).
    passage_names: float = 0.99


@dataclass(frozen=True)
class StoryBrief:
    """A candidate brief with the evidence that it is about the subject."""

    seq: int
    citation: Citation
    title_share: float  # share of the subject's term weight in the title
    passage_share: float  # share of its passages that name the subject
    best_similarity: float  # its best passage's cosine to the subject (stored vectors)
    about: float = 0.0
    # Its passages in order: chunk ids, positions and cosines to the subject (views of the candidates' arrays).
    passage_ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False, compare=False)
    positions: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False, compare=False)
    cosines: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32), repr=False, compare=False)

    @property
    def passages(self) -> list[tuple[int, int, float]]:
        """(chunk id, position, cosine) of each passage, made when a timeline reads them (the story check never does)."""
        return list(zip(self.passage_ids.tolist(), self.positions.tolist(), self.cosines.tolist()))


@dataclass(frozen=True)
class _Subject:
    """The subject's terms, computed once."""

    text: str
    weights: dict[str, float]
    names: dict[str, float]
    vector: np.ndarray


class Storyteller:
    """Finds a subject's briefs in one snapshot and tells them as a timeline."""

    def __init__(self, snapshot: Snapshot, embedder: Embedder, settings: StorySettings | None = None) -> None:
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings or StorySettings()

    def timeline(self, subject: str, as_of: date | None = None, before: date | None = None,
                 since: date | None = None) -> Timeline:
        """The story of `subject` from the briefs known on `as_of`, published from `since` and before `before` when
        given (the question's window: "Brittney Griner since her sentencing" is Griner's story from that day)."""
        about = self._subject(timeless(subject, story=True) or subject)
        members = [b for b in self.briefs(about, as_of)
                   if b.about >= self.settings.threshold and _within(b.citation.published_at, since, before)]
        members = sorted(members, key=lambda b: (b.citation.published_at, b.seq))
        entries = _entries(about, members, self._texts(members), self.snapshot.lexical.idf)
        shown = choose_shown(entries)
        return Timeline(subject, entries, shown, len(entries) - len(shown))

    def has_story(self, subject: str, as_of: date | None = None) -> bool:
        """True when at least two dated briefs tell the story of `subject` (for the Timeline button)."""
        briefs = self.briefs(self._subject(subject), as_of, self.settings.button_candidates)
        return sum(b.about >= self.settings.threshold for b in briefs) >= 2

    def _subject(self, subject: str) -> _Subject:
        weights = self.snapshot.lexical.term_weights(subject)
        names = {t: w for t, w in weights.items() if w >= self.settings.name_idf}
        # Capitalised words are names even where common ("Hurricane"); without any rare or
        # capitalised term, every informative term must be named ("monkeypox outbreak").
        capitalised = {t: w for t, w in weights.items() if t in name_terms(subject)}
        key = names or capitalised or weights
        return _Subject(subject, weights, key, self.embedder.embed([subject])[0])

    def briefs(self, subject: _Subject | str, as_of: date | None = None, candidates: int | None = None) -> list[StoryBrief]:
        """Dated candidate briefs known on `as_of` (those of the best `candidates` passages), each scored (`about`)."""
        about = subject if isinstance(subject, _Subject) else self._subject(subject)
        if not about.weights:
            return []
        known = SearchFilter(known_by=as_of)
        condition, params = known.sql()
        allowed = self.snapshot.chunk_ids(f"{condition} AND a.published_at IS NOT NULL", params)
        if not len(allowed):
            return []
        ids, positions, brief_seqs = self.snapshot.passages_of(
            self._candidate_briefs(about, allowed, candidates or self.settings.candidates))
        if not len(ids):
            return []
        # Read once for every candidate: the stored vectors, and the BM25 posting lists for the names (a
        # passage's document holds its brief's title too). Nothing is embedded or tokenised again.
        cosines = self.snapshot.vectors.vectors(ids) @ about.vector
        named = self.snapshot.lexical.weighted_presence(about.names, ids) >= self.settings.passage_names
        starts = np.flatnonzero(np.r_[True, brief_seqs[1:] != brief_seqs[:-1]])  # each brief's first passage
        ends = np.r_[starts[1:], len(ids)]
        best = np.maximum.reduceat(cosines, starts).tolist()
        share = (np.add.reduceat(named.astype(np.int64), starts) / (ends - starts)).tolist()
        seqs = brief_seqs[starts].tolist()
        citations = self.snapshot.citations(seqs)
        return [self._score(about, seq, citations[seq], share[k], best[k],
                            (ids[start:end], positions[start:end], cosines[start:end]))
                for k, (seq, start, end) in enumerate(zip(seqs, starts.tolist(), ends.tolist()))]

    def _candidate_briefs(self, about: _Subject, allowed: np.ndarray, n: int) -> list[int]:
        dense = self.snapshot.vectors.search(about.vector, n, allowed)[1]
        bm25 = self.snapshot.lexical.scores(about.text, allowed)
        lexical = np.flatnonzero(bm25 > 0)
        if len(lexical) > n:
            lexical = lexical[np.argpartition(-bm25[lexical], n - 1)[:n]]
        ids = np.unique(np.concatenate([dense[dense >= 0], lexical])).tolist()
        if not ids:
            return []
        rows = self.snapshot.query(f"SELECT DISTINCT article_seq FROM chunks WHERE id IN ({','.join('?' * len(ids))})", ids)
        return [r[0] for r in rows]

    def _texts(self, members: Sequence[StoryBrief]) -> dict[int, str]:
        """The text of the passages entries are drawn from: read for the story's briefs only."""
        ids = [p[0] for brief in members for p in _entry_passages(brief)]
        return {chunk_id: chunk.text for chunk_id, (chunk, _) in self.snapshot.chunks(ids).items()}

    def _score(self, about: _Subject, seq: int, citation: Citation, share: float, best: float,
               passages: tuple[np.ndarray, np.ndarray, np.ndarray]) -> StoryBrief:
        s = self.settings
        title = weighted_share(about.weights, _title_terms(citation.title))
        score = s.title_weight * title + share + s.similarity_weight * best
        return StoryBrief(seq, citation, title, share, best, score, *passages)


@lru_cache(maxsize=4096)
def _title_terms(title: str) -> frozenset[str]:
    """A title's terms: every story check scores the same candidate briefs' titles again."""
    return frozenset(tokenize(title))


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class _Candidate:
    text: str
    chunk_id: int
    terms: frozenset[str]
    order: int  # place in the brief: 0 = its first sentence
    cosine: float  # its passage's cosine to the subject


def _entries(about: _Subject, members: Sequence[StoryBrief], texts: dict[int, str],
             idf: object) -> tuple[TimelineEntry, ...]:
    """One sentence per brief saying what it adds: not the background every brief repeats, not what
    the previous entry said."""
    candidates = [_candidates(b, texts) for b in members]
    background = _background(candidates)
    entries: list[TimelineEntry] = []
    previous: frozenset[str] = frozenset()
    for rank, (brief, options) in enumerate(zip(members, candidates), 1):
        choice = _choose(options, about, background, previous, idf) if options else None
        text = choice.text if choice else brief.citation.title
        entries.append(TimelineEntry(brief.citation.published_at, _cut(text), brief.citation,  # type: ignore[arg-type]
                                     choice.chunk_id if choice else brief.passages[0][0], rank))
        previous = choice.terms if choice else frozenset(tokenize(text))
    return tuple(entries)


# Sentences considered per brief: its lede passages and the passages closest to the subject.
_LEDE_PASSAGES = 2
_CLOSE_PASSAGES = 2


def _entry_passages(brief: StoryBrief) -> list[tuple[int, int, float]]:
    """Its lede passages and the passages closest to the subject, in the brief's order."""
    by_cosine = sorted(brief.passages, key=lambda p: -p[2])[:_CLOSE_PASSAGES]
    return sorted({p for p in brief.passages if p[1] < _LEDE_PASSAGES} | set(by_cosine), key=lambda p: p[1])


def _candidates(brief: StoryBrief, texts: dict[int, str]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for chunk_id, _, cosine in _entry_passages(brief):
        for sentence in split_sentences(texts.get(chunk_id, "")):
            if not stands_alone(sentence) or sentence.startswith("•") or speaks_to_reader(sentence):
                continue
            found.append(_Candidate(sentence.strip(), chunk_id, frozenset(tokenize(sentence)), len(found), cosine))
    return found


def _background(candidates: Sequence[list[_Candidate]]) -> frozenset[str]:
    """Terms most briefs of the story use: what every brief repeats rather than what it adds."""
    if len(candidates) < 3:
        return frozenset()
    counts: dict[str, int] = {}
    for options in candidates:
        for term in frozenset().union(*(c.terms for c in options)) if options else ():
            counts[term] = counts.get(term, 0) + 1
    return frozenset(t for t, n in counts.items() if n >= 0.6 * len(candidates))


# Weights of the entry sentence's signals. News is written lede first, so a brief's opening sentences say
# what happened and count most; what a sentence adds over the background and the previous entry keeps the
# story moving. With new words first (1.0 / 0.3) entries were asides ("Serena Williams beat Martina Hingis in
# the 1999 US Open final…" for her last US Open); at 0.5 / 0.6 they are the news ("Sri Lanka is 'bankrupt,'
# Prime Minister Ranil Wickremesinghe said Tuesday…"): the share of each brief's title words in its entry rose
# 0.361 → 0.458 on the 12 labelled stories, consecutive entries' overlap 0.080 → 0.096 (docs/quality.md).
_NEW_WEIGHT = 0.5
_SUBJECT_WEIGHT = 0.5
_LEDE_WEIGHT = 0.6
_COSINE_WEIGHT = 0.3
_TOO_LONG = 0.5
_REPEAT = 0.5  # Jaccard overlap with the previous entry above which the sentence repeats it


def _choose(options: Sequence[_Candidate], about: _Subject, background: frozenset[str], previous: frozenset[str],
            idf: object) -> _Candidate:
    def weight(term: str) -> float:
        return max(float(idf(term)), 0.5)  # type: ignore[operator]

    def score(c: _Candidate) -> float:
        total = sum(weight(t) for t in c.terms) or 1.0
        new = sum(weight(t) for t in c.terms - background - previous - set(about.weights)) / total
        mentions = weighted_share(about.weights, set(c.terms))
        long = len(c.text.split()) > MAX_ENTRY_WORDS
        repeats = _jaccard(c.terms, previous) > _REPEAT
        return (_NEW_WEIGHT * new + _SUBJECT_WEIGHT * mentions + _LEDE_WEIGHT * (c.order < 2)
                + _COSINE_WEIGHT * c.cosine - _TOO_LONG * long - 2 * repeats)

    # A sentence that names the subject is the brief's news about it; in a roundup the others are about
    # something else ("Hey, just making sure you've had some water today." for Brittney Griner).
    naming = [c for c in options if c.terms & about.names.keys()]
    return max(naming or options, key=score)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _cut(text: str) -> str:
    """At most `MAX_ENTRY_WORDS` words; a longer sentence ends with an ellipsis."""
    words = text.split()
    return text if len(words) <= MAX_ENTRY_WORDS else " ".join(words[:MAX_ENTRY_WORDS]).rstrip(",;:") + "…"


def choose_shown(entries: Sequence[TimelineEntry], limit: int = MAX_SHOWN) -> tuple[int, ...]:
    """The first, the newest, and the most distinct steps between (greedy: farthest from those picked)."""
    if len(entries) <= limit:
        return tuple(range(len(entries)))
    terms = [frozenset(tokenize(e.text)) for e in entries]
    picked = [0, len(entries) - 1]
    while len(picked) < limit:
        rest = [i for i in range(len(entries)) if i not in picked]
        picked.append(max(rest, key=lambda i: (min(1 - _jaccard(terms[i], terms[j]) for j in picked), -i)))
    return tuple(sorted(picked))


# --------------------------------------------------------------------------- the engine's use


def tell(teller: Storyteller, answer: Answer, turn: Turn, resolution: Resolution, story: StoryQuestion | None,
         as_of: date | None, window: tuple[date | None, date | None] = (None, None)) -> tuple[Answer, Turn]:
    """Add the story to an answer: a timeline for story questions and their follow-ups ("more", "and
    before that?"), otherwise the subject when it has ≥ 2 dated briefs (the bot's Timeline button).

    `window`: the first and last day the question's time words admit ("this week", "since her sentencing"), when
    the answer came from within them; the timeline keeps to them."""
    previous = resolution.previous
    since, until = window
    before = until + timedelta(days=1) if until else None
    if story:
        timeline = teller.timeline(story.subject, as_of, before, since)
    elif resolution.kind == "more" and previous and previous.story:
        full = teller.timeline(previous.story, as_of, before, since)
        unseen = tuple(i for i, e in enumerate(full.entries) if e.citation.article_id not in previous.story_seen)
        if not unseen:  # every brief was shown: "more" is about passages only
            return answer, replace(turn, story=previous.story, story_seen=previous.story_seen)
        timeline = replace(full, shown=unseen, remaining=0)
    elif resolution.kind == "before" and previous:
        subject = previous.story or previous.resolved_query
        before = date.fromisoformat(previous.earliest) if previous.earliest else None
        timeline = teller.timeline(subject, as_of, before)
        if answer.no_answer and before and not timeline.entries:
            answer = replace(answer, notice=f"Nothing in the briefs before {before:%-d %B %Y}: that is where the story starts.")
    else:
        subject = turn.resolved_query
        button = not answer.no_answer and bool(subject) and teller.has_story(subject, as_of)
        # "and before that?" after an ordinary answer goes back from the brief that answered it.
        top = answer.passages[0].hit.citation.published_at if answer.passages else None
        turn = replace(turn, earliest=top.isoformat() if top else turn.earliest)
        return (replace(answer, story=subject) if button else answer), turn
    return _with_timeline(answer, turn, timeline)


def _within(day: date | None, since: date | None, before: date | None) -> bool:
    return day is not None and (since is None or day >= since) and (before is None or day < before)


def _with_timeline(answer: Answer, turn: Turn, timeline: Timeline) -> tuple[Answer, Turn]:
    """A timeline needs two dated briefs; its briefs join the answer's citations."""
    if len(timeline.entries) < 2 and not timeline.remaining:
        shown_dates = [e.published_at for e in timeline.visible]
        return replace(answer, story=None), replace(turn, earliest=_earliest(turn, answer, shown_dates))
    citations = list(answer.citations)
    for entry in timeline.visible:
        if entry.citation not in citations:
            citations.append(entry.citation)
    seen = tuple(dict.fromkeys(e.citation.article_id for e in timeline.visible))
    answer = replace(answer, timeline=timeline, story=timeline.subject, citations=tuple(citations))
    turn = replace(turn, story=timeline.subject, story_seen=seen,
                   earliest=_earliest(turn, answer, [e.published_at for e in timeline.visible]))
    return answer, turn


def _earliest(turn: Turn, answer: Answer, dates: Sequence[date]) -> str | None:
    """The oldest brief the reader has seen: "and before that?" asks for what came earlier."""
    cited = [p.hit.citation.published_at for p in answer.passages if p.hit.citation.published_at]
    found = min([*dates, *cited], default=None)
    return found.isoformat() if found else turn.earliest

"""Follow-ups without an LLM: "more", "and terbium?", "what did he say?" resolved from history."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from index.brief import SPEECH
from index.lexical import tokenize

__all__ = ["Turn", "Conversation", "Resolution", "resolve", "people_in", "MAX_TURNS"]

MAX_TURNS = 20
_MORE = re.compile(
    r"^(?:(?:show |tell me |give me |any )?more(?: please| results| passages)?|next|go on|continue|keep going|"
    r"anything else)\W*$", re.I)
# "and before that?": what came before the oldest brief the last answer showed.
_BEFORE = re.compile(r"^(?:and |so )?(?:what (?:happened |came )?)?(?:before that|before then|earlier than that|"
                     r"and earlier|anything earlier)\W*$", re.I)
_SWAP = re.compile(r"^(?:and|what about|how about|and what about|what of|same for|and about)\s+(.+?)\s*\??$", re.I)
_PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers)\b", re.I)
_THING_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|there)\b", re.I)
# Capitalised runs of two or more words ("Jamieson Greer", "Adam Smith"); places and
# institutions also match, so speech verbs nearby decide between candidates.
_NAME = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
_NOT_NAMES = {"The", "This", "That", "These", "While", "However", "According", "Rare", "Earth", "Exchanges",
              "Trade", "Representative", "President", "Department", "Big", "Beautiful", "Bill", "Wall", "Street",
              "Journal", "South", "North", "New", "United", "States", "House", "White", "Mesa", "Market", "Why",
              "Did", "Does", "Do", "What", "Who", "When", "Where", "How", "Is", "Was", "Has", "Have", "Can", "Will",
              "Tell", "Show", "And"}


@dataclass(frozen=True)
class Turn:
    """One question as asked and as searched, with what it showed."""

    question: str
    resolved_query: str
    offset: int = 0
    k: int = 3
    article_ids: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    published_from: str | None = None
    published_to: str | None = None
    # A story (index/timeline.py): its subject, the briefs its timeline showed, and the oldest brief
    # the reader saw (what "and before that?" goes back from).
    story: str | None = None
    story_seen: tuple[str, ...] = ()
    earliest: str | None = None


@dataclass
class Conversation:
    """A chat's recent turns, capped so memory stays bounded; JSON-serialisable for persistence."""

    turns: list[Turn] = field(default_factory=list)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def add(self, turn: Turn) -> None:
        self.turns = [*self.turns, turn][-MAX_TURNS:]

    def to_json(self) -> list[dict[str, object]]:
        return [asdict(t) for t in self.turns]

    @classmethod
    def from_json(cls, data: Sequence[dict[str, object]]) -> Conversation:
        turns = []
        for raw in data:
            raw = dict(raw)
            for key in ("article_ids", "people", "story_seen"):
                raw[key] = tuple(raw.get(key) or ())  # type: ignore[arg-type]
            turns.append(Turn(**raw))  # type: ignore[arg-type]
        return cls(turns[-MAX_TURNS:])


@dataclass(frozen=True)
class Resolution:
    """What to search for: `kind` is new, more, before, swap or reference."""

    kind: str
    query: str
    offset: int = 0
    previous: Turn | None = None


def resolve(question: str, conversation: Conversation, idf: Callable[[str], float]) -> Resolution:
    """Rewrite a follow-up into a self-contained query using the previous turn."""
    previous = conversation.last
    text = question.strip()
    if previous is None:
        return Resolution("new", text)
    if _MORE.match(text):
        return Resolution("more", previous.resolved_query, previous.offset + previous.k, previous)
    if _BEFORE.match(text):
        return Resolution("before", previous.story or previous.resolved_query, 0, previous)
    swap = _SWAP.match(text)
    if swap:
        return Resolution("swap", _swap_focus(previous.resolved_query, swap.group(1), idf), 0, previous)
    if _leans_on_context(text, idf):
        return Resolution("reference", _fill_references(text, previous, idf), 0, previous)
    return Resolution("new", text)


def _leans_on_context(text: str, idf: Callable[[str], float]) -> bool:
    """A pronoun and at most two informative words of its own: "why did it fall apart?"."""
    if not (_PERSON_PRONOUN.search(text) or _THING_PRONOUN.search(text)):
        return False
    informative = [t for t in tokenize(text) if idf(t) > 1.0]
    return len(informative) <= 2


def _swap_focus(previous_query: str, new_focus: str, idf: Callable[[str], float]) -> str:
    """Replace the previous query's rarest word (its focus) with the new subject."""
    words = re.findall(r"\w[\w'%-]*", previous_query)
    scored = [(idf(tokenize(w)[0]) if tokenize(w) else 0.0, w) for w in words]
    best = max(scored, default=(0.0, ""))
    if best[0] <= 0:
        return f"{new_focus} {previous_query}".strip()
    return re.sub(rf"\b{re.escape(best[1])}\b", new_focus, previous_query, count=1)


def _fill_references(text: str, previous: Turn, idf: Callable[[str], float]) -> str:
    """He/she → the person the last answer was about; it/they → the last question's subject."""
    resolved = text
    if _PERSON_PRONOUN.search(resolved) and previous.people:
        person = previous.people[0]
        resolved = re.sub(r"\b(his|hers)\b", f"{person}'s", resolved, flags=re.I)
        resolved = re.sub(r"\b(he|she|him|her)\b", person, resolved, flags=re.I)
    subject = " ".join(w for w in re.findall(r"\w[\w'%-]*", previous.resolved_query)
                       if tokenize(w) and idf(tokenize(w)[0]) > 0)
    return f"{resolved} {subject}".strip() if subject else resolved


def people_in(question: str, passages: Sequence[str]) -> tuple[str, ...]:
    """People named in the question first, then those quoted in the passages."""
    found: list[str] = []
    for name in _names(question):
        if name not in found:
            found.append(name)
    for passage in passages:
        for sentence in re.split(r"(?<=[.!?])\s+", passage):
            if SPEECH.search(sentence):
                found.extend(n for n in _names(sentence) if n not in found)
    return tuple(found[:5])


def _names(text: str) -> list[str]:
    names = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group(1).split() if w not in _NOT_NAMES]
        if len(words) >= 2:
            names.append(" ".join(words[-3:]))
    return names

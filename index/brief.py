"""Sentence choice for the brief that opens an answer: which sentences of the top passages answer
the question, scored on measured signals (no LLM).

Signals: the answer type the question asks for (who → a name, how many → a number, when → a date,
where → a place, "what did X say" → a quote), IDF-weighted overlap with the question, dense
similarity to the question, closeness to the top passages as a whole (central sentences carry the
story), the lede, and the passage's rank and the sentence's place in it. Headings and
fragments are never chosen. Weights: `python bench/tune_brief.py` (README, "The brief").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.chunk import is_heading, split_sentences
from index.lexical import tokenize
from index.records import Chunk

__all__ = ["AnswerType", "answer_type", "Sentence", "Closeness", "BriefWeights", "Embed", "candidate_sentences",
           "closeness", "score_sentences", "choose_brief", "is_fragment", "SPEECH"]

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATE = re.compile(rf"\b(?:{_MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{4}}|(?:19|20)\d\d|"
                   r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|yesterday|today|last (?:week|month|year))\b")
_NUMBER = re.compile(r"(?:[$€£¥]\s?\d|\d[\d,.]*\s?(?:%|percent|million|billion|trillion)?|\b(?:one|two|three|four|five|six|"
                     r"seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|half|third|quarter)s?\b)", re.I)
# The lede: news states what happened in an article's first sentences.
_LEDE_SENTENCES = 2
Embed = Callable[[Sequence[str]], np.ndarray]
_QUOTE = re.compile(r"[“\"”]")
# A question in the text ("How did Tom Brady decide to retire?") asks; it never briefs anyone.
_QUESTION = re.compile(r"\?[\"'”’)\]]*\s*$")
# Verbs that attribute words to someone: quotes for "what did X say", people for "what did he say?".
SPEECH = re.compile(r"\b(?:said|says|say|told|stated|wrote|added|noted|warned|argued|admitted|announced|according to)\b", re.I)
_NAME = re.compile(r"\b[A-Z][a-zA-Z'’-]+(?:\s+(?:[A-Z][a-zA-Z'’-]+|(?:of|de|van|al)\b))*")
_PLACE_CUE = re.compile(r"\b(?:in|at|from|to|near|across|off)\s+(?:the\s+)?[A-Z][a-z]+")


class AnswerType:
    PERSON = "person"  # who, which company/team/…: a name the question does not contain
    NUMBER = "number"
    DATE = "date"
    PLACE = "place"
    QUOTE = "quote"
    OTHER = "other"


_TYPES = [
    (re.compile(r"\bwhat (?:did|does|do|has|have)\b.+\b(?:say|said|tell|told|write|claim|admit|warn)\b|\bwho said\b", re.I), AnswerType.QUOTE),
    (re.compile(r"\bhow (?:many|much|old|far|long|large|big|tall|high|fast)\b|\bwhat (?:percentage|percent|share|number|amount|price|age)\b", re.I), AnswerType.NUMBER),
    (re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b|\bwhich (?:year|date|day|month)\b", re.I), AnswerType.DATE),
    (re.compile(r"\bwhere\b|\b(?:which|what) (?:country|countries|city|cities|state|states|nation|region|island|area|continent|town|county|province|park|port)\b", re.I), AnswerType.PLACE),
    (re.compile(r"\bwho(?:m|se)?\b|\b(?:which|what) (?:company|companies|firm|firms|person|people|team|teams|group|organi[sz]ation|agency|official|man|woman|actor|actress|singer|player|politician|leader|country's|president|minister|retailer|airline|brand|bank|network|show|movie|film|album|band)\b", re.I), AnswerType.PERSON),
]


def answer_type(question: str) -> str:
    """What kind of thing the question asks for."""
    return next((kind for pattern, kind in _TYPES if pattern.search(question)), AnswerType.OTHER)


def is_fragment(sentence: str) -> bool:
    """Too short to stand alone, or cut off: no closing punctuation."""
    text = sentence.strip()
    return len(text.split()) < 6 or not re.search(r"[.!?…][\"'”’)\]]*$", text)


def _has_type(sentence: str, kind: str, question: str) -> bool:
    """True when the sentence holds an instance of `kind` that the question does not already contain."""
    if kind == AnswerType.NUMBER:
        asked = set(_NUMBER.findall(question))
        return any(n not in asked for n in _NUMBER.findall(sentence))
    if kind == AnswerType.DATE:
        return bool(_DATE.search(sentence))
    if kind == AnswerType.QUOTE:
        return bool(_QUOTE.search(sentence)) or bool(SPEECH.search(sentence))
    if kind in (AnswerType.PERSON, AnswerType.PLACE):
        asked = set(tokenize(question))
        names = [m.group(0) for m in _NAME.finditer(sentence) if m.start() > 0 or len(m.group(0).split()) > 1]
        fresh = [n for n in names if not set(tokenize(n)) <= asked]
        if kind == AnswerType.PLACE:
            return bool(fresh) and bool(_PLACE_CUE.search(sentence))
        return bool(fresh)
    return False


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: its text, the passage rank it comes from and its place in that passage."""

    text: str
    rank: int
    position: int
    in_lede: bool = False  # among the first two sentences of its article


@dataclass(frozen=True)
class Closeness:
    """Dense signals, one value per candidate sentence."""

    question: np.ndarray  # cosine similarity to the question
    passages: np.ndarray  # mean cosine to the top passages, less the candidates' mean: how central it is


@dataclass(frozen=True)
class BriefWeights:
    """How much each signal counts; measured on the news-QA development split (bench/tune_brief.py)."""

    answer_type: float = 0.3
    overlap: float = 0.65
    similarity: float = 1.0
    centrality: float = 0.5
    lede: float = 0.1
    passage_rank: float = 0.15
    position: float = 0.05
    max_words: int = 80
    max_sentences: int = 4
    near_copy: float = 0.6
    same_passage: float = 0.1


def candidate_sentences(passages: Sequence[Chunk], first_rank: int = 1) -> list[Sentence]:
    """Every sentence of the passages that could stand in a brief (no headings, fragments or questions)."""
    found = []
    for offset, chunk in enumerate(passages):
        for position, sentence in enumerate(split_sentences(chunk.text)):
            if not is_heading(sentence) and not is_fragment(sentence) and not _QUESTION.search(sentence):
                lede = chunk.position == 0 and position < _LEDE_SENTENCES
                found.append(Sentence(sentence.strip(), first_rank + offset, position, lede))
    return found


def closeness(question: str, sentences: Sequence[Sentence], passages: Sequence[str], embed: Embed) -> Closeness:
    """Embed the question, the candidates and the passages once; both dense signals come from that."""
    vectors = embed([question, *(s.text for s in sentences), *passages])
    candidates = vectors[1 : 1 + len(sentences)]
    central = (candidates @ vectors[1 + len(sentences) :].T).mean(axis=1)
    return Closeness(candidates @ vectors[0], central - central.mean())


def score_sentences(question: str, sentences: Sequence[Sentence], idf: Callable[[str], float],
                    dense: Closeness, weights: BriefWeights = BriefWeights()) -> np.ndarray:
    """One score per sentence; higher answers the question better."""
    kind = answer_type(question)
    terms = set(tokenize(question))
    total = sum(idf(t) for t in terms) or 1.0
    scores = np.empty(len(sentences), np.float32)
    for i, sentence in enumerate(sentences):
        overlap = sum(idf(t) for t in terms & set(tokenize(sentence.text))) / total
        scores[i] = (weights.similarity * float(dense.question[i]) + weights.centrality * float(dense.passages[i])
                     + weights.overlap * overlap + weights.answer_type * _has_type(sentence.text, kind, question)
                     + weights.lede * sentence.in_lede
                     - weights.passage_rank * (sentence.rank - 1) - weights.position * min(sentence.position, 5))
    return scores


def choose_brief(sentences: Sequence[Sentence], scores: np.ndarray, weights: BriefWeights = BriefWeights()) -> list[Sentence]:
    """The best sentence first, then the next best that add something, within the word budget.

    Each sentence already taken from a passage lowers that passage's other sentences by
    `same_passage`, so the brief gathers the best of several passages rather than one.
    """
    chosen: list[Sentence] = []
    words = 0
    left = list(range(len(sentences)))
    while left and len(chosen) < weights.max_sentences:
        taken = [c.rank for c in chosen]
        best = max(left, key=lambda i: scores[i] - weights.same_passage * taken.count(sentences[i].rank))
        left.remove(best)
        sentence = sentences[best]
        length = len(sentence.text.split())
        if chosen and (words + length > weights.max_words or any(_near_copy(sentence.text, c.text, weights) for c in chosen)):
            continue
        chosen.append(sentence)
        words += length
    return chosen


def _near_copy(a: str, b: str, weights: BriefWeights) -> bool:
    """Two sentences sharing most of their terms say the same thing (syndicated or repeated text)."""
    ta, tb = set(tokenize(a)), set(tokenize(b))
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) >= weights.near_copy

"""Sentence choice for the brief that opens an answer: which sentences of the top passages answer
the question, scored on measured signals (no LLM, no embedding at question time).

Signals, one row per candidate sentence (`sentence_signals`): IDF-weighted overlap with the question,
the question's focus met in the sentence ("which *minister*", "how many *firefighters*"), the answer
type the question asks for (who → a name, how many → a number, when → a date, where → a place,
why → a cause, "what did X say" → a quote) present and new, and the passage's rank and the sentence's
place in it. Headings and fragments are never chosen. The weights are fitted, cross-validated, on the
news-QA development split, the Wikinews questions and the labelled sample questions together
(`python bench/tune_brief.py`; docs/quality.md). Dense sentence signals (similarity to the question
and to the top passages) were measured too: once focus and answer type are in, they add nothing under
cross-validation, and they cost an embedding per sentence per question, so they are gone; so is the
lede's (its fitted weight was −0.03).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, fields

import numpy as np

from index.chunk import is_heading, split_sentences
from index.lexical import frames_question, tokenize
from index.records import Chunk

__all__ = ["AnswerType", "answer_type", "question_focus", "Sentence", "BriefWeights", "SIGNALS", "candidate_sentences",
           "sentence_signals", "score_sentences", "choose_brief", "is_open_question", "is_fragment", "stands_alone", "SPEECH",
           "speaks_to_reader"]

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATE = re.compile(rf"\b(?:{_MONTH}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{4}}|(?:19|20)\d\d|"
                   r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|yesterday|today|last (?:week|month|year))\b")
_NUMBER = re.compile(r"(?:[$€£¥]\s?\d|\d[\d,.]*\s?(?:%|percent|million|billion|trillion)?|\b(?:one|two|three|four|five|six|"
                     r"seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|half|third|quarter)s?\b)", re.I)
_QUOTE = re.compile(r"[“\"”]")
# What answers "why?": a cause or a reason named as one ("due to", "amid", "led to", "As severe drought persists…").
# "cause" alone is left out: "probable cause of a crime" named none.
_REASON = re.compile(r"\b(?:because|due to|owing to|caus(?:es|ed|ing)|blamed on|as a result|in response to|driven by|"
                     r"fu?ell?ed by|amid|citing|led to|leads to|leading to|trigger(?:s|ed)?|reasons?)\b|^As\b")
# A sentence that speaks to the reader, outside quotes: a newsletter's greeting, not news.
_TO_THE_READER = re.compile(r"\b(?:you|your|you['’](?:re|ve|ll|d))\b|^Hey\b", re.I)
_QUOTED = re.compile(r"[“\"][^”\"]*[”\"]")
_QUESTION = re.compile(r"\?[\"'”’)\]]*\s*$")
# Verbs that attribute words to someone: quotes for "what did X say", people for "what did he say?".
SPEECH = re.compile(r"\b(?:said|says|say|told|stated|wrote|added|noted|warned|argued|admitted|announced|according to)\b", re.I)
_NAME = re.compile(r"\b[A-Z][a-zA-Z'’-]+(?:\s+(?:[A-Z][a-zA-Z'’-]+|(?:of|de|van|al)\b))*")
_PLACE_CUE = re.compile(r"\b(?:in|at|from|to|near|across|off)\s+(?:the\s+)?[A-Z][a-z]+")
# The focus of "which Polish minister ordered…", "how many firefighters…", "what was the name of the dive boat…":
# the words after the question word, up to the verb.
_FOCUS_AFTER = re.compile(r"\b(?:which|what|how many|how much)\s+((?:[\w'’-]+\s*){1,4})", re.I)
_NAME_OF = re.compile(r"\bname of (?:the |a |an |this |that )?((?:[\w'’-]+\s+){0,2}[\w'’-]+)", re.I)
_AUXILIARY = frozenset("is are was were did does do has have had will would can could should may might be been".split())
_LINKING = frozenset("the a an of in on at to for that which who this these those its his her their".split())
# "Which emperor…?", "what nickname…?": a name the question does not contain answers them.
_ASKS_FOR_NAME = re.compile(r"\b(?:which|what (?:name|nickname|title))\b", re.I)


class AnswerType:
    PERSON = "person"  # who, which company/team/…: a name the question does not contain
    NUMBER = "number"
    DATE = "date"
    PLACE = "place"
    QUOTE = "quote"
    REASON = "reason"
    NEWS = "news"  # "What's new?": no subject of its own, so a sentence that reports news answers it
    OTHER = "other"


_TYPES = [
    (re.compile(r"\bwhat (?:did|does|do|has|have)\b.+\b(?:say|said|tell|told|write|claim|admit|warn)\b|\bwho said\b", re.I), AnswerType.QUOTE),
    (re.compile(r"\bhow (?:many|much|old|far|long|large|big|tall|high|fast)\b|\bwhat (?:percentage|percent|share|number|amount|price|age)\b", re.I), AnswerType.NUMBER),
    (re.compile(r"\bwhy\b|\bhow come\b", re.I), AnswerType.REASON),
    (re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|time)\b|\bwhich (?:year|date|day|month)\b", re.I), AnswerType.DATE),
    (re.compile(r"\bwhere\b|\b(?:which|what) (?:country|countries|city|cities|state|states|nation|region|island|area|continent|town|county|province|park|port)\b", re.I), AnswerType.PLACE),
    (re.compile(r"\bwho(?:m|se)?\b|\b(?:which|what) (?:company|companies|firm|firms|person|people|team|teams|group|organi[sz]ation|agency|official|man|woman|actor|actress|singer|player|politician|leader|country's|president|minister|retailer|airline|brand|bank|network|show|movie|film|album|band)\b", re.I), AnswerType.PERSON),
]


def answer_type(question: str) -> str:
    """What kind of thing the question asks for: the question word that comes first decides
    ("Who was killed when…?" asks for a person, not a date)."""
    found = [(match.start(), kind) for pattern, kind in _TYPES if (match := pattern.search(question))]
    if found:
        return min(found)[1]
    if _ASKS_FOR_NAME.search(question):
        return AnswerType.PERSON
    return AnswerType.OTHER if any(not frames_question(t) for t in tokenize(question)) else AnswerType.NEWS


def question_focus(question: str) -> list[str]:
    """The stemmed terms of what the question asks about: "which *Polish minister* ordered…" → polish, minist."""
    named = _NAME_OF.search(question)
    if named:
        return tokenize(named.group(1))
    after = _FOCUS_AFTER.search(question)
    if not after:
        return []
    words: list[str] = []
    for word in after.group(1).split():
        lower = word.lower()
        if lower in _AUXILIARY or lower.endswith("ed") or (words and lower in _LINKING):
            break  # the verb: "what happened…" has no focus, "which minister ordered…" ends at it
        if lower not in _LINKING:
            words.append(word)
    return tokenize(" ".join(words))


def speaks_to_reader(sentence: str) -> bool:
    """A newsletter's greeting or small talk ("If you've patiently waited to break out the pumpkin spice, now's your
    time."), not news: it says "you" outside a quote."""
    return _TO_THE_READER.search(_QUOTED.sub("", sentence)) is not None


def is_fragment(sentence: str) -> bool:
    """Too short to stand alone, or cut off: no closing punctuation."""
    text = sentence.strip()
    return len(text.split()) < 6 or not re.search(r"[.!?…][\"'”’)\]]*$", text)


def stands_alone(sentence: str) -> bool:
    """A sentence a reader can take on its own: no heading, fragment, or question ("How did Tom Brady decide to
    retire?"), which asks and never briefs anyone."""
    return not is_heading(sentence) and not is_fragment(sentence) and not _QUESTION.search(sentence)


def _has_type(sentence: str, kind: str, question: str) -> bool:
    """True when the sentence holds an instance of `kind` that the question does not already contain."""
    if kind == AnswerType.NUMBER:
        asked = set(_NUMBER.findall(question))
        return any(n not in asked for n in _NUMBER.findall(sentence))
    if kind == AnswerType.DATE:
        return bool(_DATE.search(sentence))
    if kind == AnswerType.REASON:
        return bool(_REASON.search(sentence))
    if kind == AnswerType.QUOTE:
        return bool(_QUOTE.search(sentence)) or bool(SPEECH.search(sentence))
    if kind == AnswerType.NEWS:
        # The digest opened on a newsletter's greeting ("Hey, just making sure you've had some water today.",
        # "You can't predict the future, but you can do your best to prepare for it."): news tells of others.
        return not speaks_to_reader(sentence)
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


SIGNALS = ("overlap", "focus", "answer_type", "passage_rank", "position")


@dataclass(frozen=True)
class BriefWeights:
    """How much each signal counts (fitted by bench/tune_brief.py, cross-validated over three sets),
    and how the brief is assembled from the scores."""

    overlap: float = 1.0
    focus: float = 0.472
    answer_type: float = 0.633
    passage_rank: float = -0.26  # per rank below the first passage
    position: float = -0.015  # per sentence into the passage (counted up to 5)
    max_words: int = 80
    max_sentences: int = 4
    near_copy: float = 0.6
    same_passage: float = 0.1
    # An open question's brief spans the passages: at 0.5 the labelled "What happened with Geneva?" gets
    # what was agreed (samples 0.944 → 1.000 in the brief, Wikinews questions 0.821 → 0.808, news unchanged).
    same_passage_open: float = 0.5

    def vector(self) -> np.ndarray:
        """The signal weights in `SIGNALS` order."""
        values = dict(zip((f.name for f in fields(self)), astuple(self)))
        return np.array([values[name] for name in SIGNALS], np.float32)


def candidate_sentences(passages: Sequence[Chunk], first_rank: int = 1) -> list[Sentence]:
    """Every sentence of the passages that could stand in a brief (no headings, fragments or questions)."""
    found = []
    for offset, chunk in enumerate(passages):
        for position, sentence in enumerate(split_sentences(chunk.text)):
            if stands_alone(sentence):
                found.append(Sentence(sentence.strip(), first_rank + offset, position))
    return found


def sentence_signals(question: str, sentences: Sequence[Sentence], idf: Callable[[str], float]) -> np.ndarray:
    """One row of `SIGNALS` per sentence: lexical and structural, nothing that needs the model."""
    kind = answer_type(question)
    terms = set(tokenize(question))
    total = sum(idf(t) for t in terms) or 1.0
    focus = set(question_focus(question))
    rows = np.zeros((len(sentences), len(SIGNALS)), np.float32)
    for i, sentence in enumerate(sentences):
        words = set(tokenize(sentence.text))
        rows[i] = (sum(idf(t) for t in terms & words) / total, len(focus & words) / len(focus) if focus else 0.0,
                   _has_type(sentence.text, kind, question), sentence.rank - 1, min(sentence.position, 5))
    return rows


def score_sentences(question: str, sentences: Sequence[Sentence], idf: Callable[[str], float],
                    weights: BriefWeights = BriefWeights()) -> np.ndarray:
    """One score per sentence; higher answers the question better."""
    if not sentences:
        return np.empty(0, np.float32)
    # Summed row by row, not through BLAS: OpenBLAS's matmul printed a spurious "invalid value encountered in matmul"
    # on these few float32 numbers, once in a run (numpy#24067).
    scores: np.ndarray = (sentence_signals(question, sentences, idf) * weights.vector()).sum(axis=1)
    return scores


def is_open_question(question: str) -> bool:
    """"What happened with Geneva?", "What's new?": no answer type and no focus; the reader wants the story, or the
    news, across sources."""
    return answer_type(question) in (AnswerType.OTHER, AnswerType.NEWS) and not question_focus(question)


def choose_brief(sentences: Sequence[Sentence], scores: np.ndarray, weights: BriefWeights = BriefWeights(),
                 open_question: bool = False) -> list[Sentence]:
    """The best sentence first, then the next best that add something, within the word budget.

    Each sentence already taken from a passage lowers that passage's other sentences by
    `same_passage` (`same_passage_open` for an open question), so the brief gathers the best of
    several passages rather than one.
    """
    held_back = weights.same_passage_open if open_question else weights.same_passage
    chosen: list[Sentence] = []
    words = 0
    left = list(range(len(sentences)))
    while left and len(chosen) < weights.max_sentences:
        taken = [c.rank for c in chosen]
        best = max(left, key=lambda i: scores[i] - held_back * taken.count(sentences[i].rank))
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

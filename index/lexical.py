"""BM25 over chunk texts: catches the names and numbers dense vectors blur.

The index is a term-by-passage matrix of precomputed Lucene BM25 scores (compressed sparse columns), kept
in the files bm25s writes and reads. It is built and scored here with numpy alone: importing bm25s pulls
in SciPy, about 0.2 s of every one-shot `briefbot ask`. bm25s stays the reference the tests compare with.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from collections.abc import Sequence, Set
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer

from index.demonyms import PLACE_GROUPS
from index.english import is_english
from index.spelling import american_stems
from index.synonyms import synonyms
from index.wordforms import irregular_stems, related_forms

__all__ = ["LexicalIndex", "tokenize", "stems", "name_terms", "top_k", "weighted_share", "frames_question", "is_stop_word",
           "LEXICAL_DIR", "UNITED_STATES"]

LEXICAL_DIR = "bm25"
# Keep "85%" and "REMX" whole; single letters and digits carry no signal.
_TOKEN = re.compile(r"(?u)\w\w+%?|\d+%")
_STEMMER = Stemmer.Stemmer("english")
# "licences" and "licenses", "defence" and "defense" are one term (index/spelling.py).
_AMERICAN = american_stems(_STEMMER.stemWords)
_IRREGULAR = irregular_stems(_STEMMER.stemWords)
# "U.S." holds no term (single letters are dropped) and "US" is the pronoun "us", so "What did the US agree to?"
# missed every brief that says "U.S.". A text naming the United States in any form also holds this term, which no
# word tokenizes to: BM25 never scores it nor counts it in a passage's length; the relevance gate reads it.
UNITED_STATES = "u.s."
_NAMES_UNITED_STATES = re.compile(
    r"\bU\.S\.(?:A\.)?|\bUSA?\b|\bUnited States\b|(?<!Latin )(?<!South )(?<!Central )(?<!North )\bAmerica(?:ns?)?\b")


def stems(words: Sequence[str]) -> list[str]:
    """The term of each word, stop words included, aligned with `words`: stemmed, British spelt American."""
    return [_AMERICAN.get(stem, stem) for stem in _STEMMER.stemWords(list(words))]


# bm25s's English list (the first line), then the pronouns and auxiliaries questions are full of.
_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with "
    "about after again all also am any because been before being between both can could did do does doing down "
    "during each few from further had has have having he her here hers herself him himself his how i its itself "
    "just me more most my myself nor now only other our ours out over own same she should so some than them "
    "themselves those through too under until up very we were what when where which while who whom why would "
    "you your yours might may must shall will".split())
# Words that frame a question rather than name its subject; a passage need not contain them. The words
# about the briefs themselves ("summarize the latest brief", "any new stories?") name no subject either.
_QUESTION_TERMS = frozenset(stems(
    "say said says tell told happen happened think mean explain know latest news new update going did does "
    "much many brief briefs summary summarize summarise recap headline headlines article articles story stories "
    "anything something whats".split()))


# Capitalised words that open or frame a question rather than name someone or something.
_NOT_NAMES = frozenset(
    "what which who whom whose when where why how is are was were do does did can could should would will has "
    "have had the a an in on of and or to for tell show give any i my me it its this that these those there if "
    "latest news anything something summarize summarise explain describe brief recap outline update remind walk help "
    "please list compare define".split())
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*")


def name_terms(text: str) -> set[str]:
    """Terms of the capitalised words of a question: the names and places a passage must mention."""
    rest, marks = _split_marks(text)
    return {t for word in _CAPITALISED.findall(rest) if word.lower() not in _NOT_NAMES
            for t in tokenize(word) if t not in _QUESTION_TERMS} | set(marks)


def _marks(text: str) -> list[str]:
    """The terms a passage holds beside its words' (UNITED_STATES)."""
    return [UNITED_STATES] if _NAMES_UNITED_STATES.search(text) else []


def _split_marks(question: str) -> tuple[str, list[str]]:
    """The question without its names of the United States, and the terms they stand for: "US" is no pronoun."""
    rest, found = _NAMES_UNITED_STATES.subn(" ", question)
    return rest, [UNITED_STATES] if found else []


def is_stop_word(word: str) -> bool:
    """True for a lower-case word that no passage is searched by ("which", "where")."""
    return word in _STOPWORDS


def frames_question(term: str) -> bool:
    """True for a stemmed term that frames a question ("say", "happen", "latest") rather than names its subject."""
    return term in _QUESTION_TERMS


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms, British spellings as American ones."""
    return stems([w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS])


# Lucene BM25, as bm25s computes it by default.
_K1, _B = 1.5, 0.75
# bm25s's file names, so an index folder written by either loads in the other.
_DATA, _INDICES, _INDPTR, _VOCAB, _PARAMS = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy",
                                            "vocab.index.json", "params.index.json")


class LexicalIndex:
    """A BM25 index over every chunk, rebuilt whole: a term's column holds its passages' scores."""

    def __init__(self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                 count: int) -> None:
        self._vocab = vocab
        self._data, self._indices, self._indptr = data, indices, indptr
        self.count = count
        self._sorted_vocab: list[str] | None = None

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        passage_ids: list[int] = []
        frequencies: list[int] = []
        lengths = np.zeros(max(len(texts), 1), np.float64)
        # An all-stop-word chunk gets a placeholder term, so every passage has a length; an index emptied by
        # removals keeps one placeholder document that `count` (and so every search) leaves out.
        for passage, text in enumerate(texts or [""]):
            terms = tokenize(text) or ["\x00"]
            lengths[passage] = len(terms)
            for term, frequency in Counter(terms + _marks(text)).items():
                term_ids.append(vocab.setdefault(term, len(vocab)))
                passage_ids.append(passage)
                frequencies.append(frequency)
        terms_of, passages, tf = np.array(term_ids), np.array(passage_ids, np.int32), np.array(frequencies, np.float64)
        df = np.bincount(terms_of, minlength=len(vocab))
        idf = np.log(1 + (len(lengths) - df + 0.5) / (df + 0.5))
        scores = idf[terms_of] * tf / (tf + _K1 * (1 - _B + _B * lengths[passages] / lengths.mean()))
        order = np.lexsort((passages, terms_of))
        indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        return cls(vocab, scores[order].astype(np.float32), passages[order], indptr, len(texts))

    @classmethod
    def load(cls, folder: Path, count: int) -> LexicalIndex:
        lexical = folder / LEXICAL_DIR
        vocab = json.loads((lexical / _VOCAB).read_text(encoding="utf-8"))
        return cls(vocab, np.load(lexical / _DATA), np.load(lexical / _INDICES), np.load(lexical / _INDPTR), count)

    def save(self, folder: Path) -> None:
        lexical = folder / LEXICAL_DIR
        lexical.mkdir(parents=True, exist_ok=True)
        for name, array in ((_DATA, self._data), (_INDICES, self._indices), (_INDPTR, self._indptr)):
            np.save(lexical / name, array)
        (lexical / _VOCAB).write_text(json.dumps(self._vocab, ensure_ascii=False), encoding="utf-8")
        params = {"k1": _K1, "b": _B, "method": "lucene", "idf_method": "lucene", "dtype": "float32",
                  "int_dtype": "int32", "num_docs": max(self.count, 1), "backend": "numpy"}
        (lexical / _PARAMS).write_text(json.dumps(params, indent=4), encoding="utf-8")

    def known_terms(self, text: str) -> list[str]:
        """The query's terms that occur in the corpus, but for the words that frame it: "what do the briefs
        say about Lynas?" scores Lynas, not every passage that says something."""
        return [t for t in tokenize(text) if t in self._vocab and t not in _QUESTION_TERMS]

    def has_subject(self, text: str) -> bool:
        """True when the text names a subject, known to the corpus or not: "what's new?" has none and
        lists the newest briefs; "what did the IRS announce?" has one and is searched (and refused)."""
        return any(t not in _QUESTION_TERMS for t in tokenize(text))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (0 when unknown)."""
        token_id = self._vocab.get(term)
        if token_id is None:
            return 0.0
        df = int(self._indptr[token_id + 1] - self._indptr[token_id])
        return float(np.log(1 + (self.count - df + 0.5) / (df + 0.5)))

    def passages_with(self, term: str) -> np.ndarray:
        """Ids of the passages whose text or brief title holds a stemmed term: its posting list, read
        instead of tokenising stored text again at question time."""
        token_id = self._vocab.get(term)
        if token_id is None:
            return np.empty(0, np.int64)
        return np.asarray(self._indices[self._indptr[token_id] : self._indptr[token_id + 1]], np.int64)

    def naming(self, term: str, ids: np.ndarray) -> np.ndarray:
        """For each passage id, whether it holds a name in any of its forms: "Hungary" (hungari) is named by
        "Hungarian" and "Austrian" by "Austria", one stem extending the other; "Dutch" by "Netherlands"
        and "Canadian" by "Canada" through the table of places (index.demonyms)."""
        forms = [t for name in (term, *_place_forms().get(term, ())) for t in self._forms(name)
                 if t.startswith(name) or name.startswith(t)]
        return self._holding(forms, ids)

    def _holding(self, terms: Sequence[str], ids: np.ndarray) -> np.ndarray:
        """For each passage id, whether it holds any of the terms: their posting lists marked on one mask
        (np.isin sorted every list, 4-5 ms a question at 100k passages)."""
        mask = np.zeros(max(self.count, 1), bool)
        for term in terms:
            mask[self.passages_with(term)] = True
        return mask[np.asarray(ids, np.int64)]

    def _forms(self, term: str) -> list[str]:
        """Vocabulary terms sharing the name's first five letters (sorted once, then bisected)."""
        if self._sorted_vocab is None:
            self._sorted_vocab = sorted(self._vocab)
        stem = term[:5]
        start = bisect.bisect_left(self._sorted_vocab, stem)
        end = bisect.bisect_left(self._sorted_vocab, stem + "\uffff")
        return [t for t in self._sorted_vocab[start:end] if len(t) >= 5 or t == term]

    def family(self, term: str) -> list[str]:
        """The term and the vocabulary's other forms of its word (index.wordforms): "led" → lead,
        "agre" → agreement, "failur" → fail; and for a word no passage holds, its synonyms (index.synonyms):
        "respond" → react, "quarrel" → dispute (synonyms of the words it has let everyday questions through:
        docs/quality.md, "Synonyms")."""
        forms = {term, *_IRREGULAR.get(term, ()), *related_forms(term)}
        if term not in self._vocab:
            forms.update(synonyms(term))
        return [t for t in forms if t in self._vocab]

    def weighted_presence(self, weights: dict[str, float], ids: np.ndarray) -> np.ndarray:
        """For each passage id, the share of `weights`' term weight its text and title hold."""
        total = sum(weights.values())
        share = np.zeros(len(ids), np.float32)
        if not total or not len(ids):
            return share
        for term, weight in weights.items():
            share += weight * self._holding(self.family(term), ids)
        return share / total

    def term_weights(self, query: str, common_unseen: float = 1.0) -> dict[str, float]:
        """The query's informative terms with their IDF; a term the corpus never saw weighs the most, and
        `common_unseen` of that when it is a common English word's and no name ("reacting", not "pickleball"
        or "Wakanda"): a corpus of a few briefs lacks most everyday words, and a question's verb then
        outweighed the subject it shares with the brief that answers it."""
        unseen = float(np.log(1 + (self.count + 0.5) / 0.5))
        rest, marks = _split_marks(query)
        words = [w for w in _TOKEN.findall(rest.lower()) if w not in _STOPWORDS]
        term_of = {w: t for w, t in zip(words, stems(words)) if t not in _QUESTION_TERMS}
        weights = {t: self.idf(t) for t in [*term_of.values(), *marks]}
        if common_unseen == 1.0 or all(weights.values()):
            return {t: w or unseen for t, w in weights.items()}
        common = {t for w, t in term_of.items() if is_english(w)} - name_terms(query)
        return {t: w or unseen * (common_unseen if t in common else 1.0) for t, w in weights.items()}

    def coverage(self, query: str, passage: str) -> float:
        """Share of the query's informative terms (IDF-weighted) that the passage contains."""
        return weighted_share(self.term_weights(query), {*tokenize(passage), *_marks(passage)})

    def scores(self, text: str, allowed: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage (0 outside `allowed`); all zeros when no query term is known."""
        terms = self.known_terms(text)
        if not terms or self.count == 0:
            return np.zeros(self.count, np.float32)
        columns = [slice(self._indptr[t], self._indptr[t + 1]) for t in map(self._vocab.__getitem__, terms)]
        scores = np.bincount(np.concatenate([self._indices[c] for c in columns]),
                             np.concatenate([self._data[c] for c in columns]), self.count)
        if allowed is not None:
            mask = np.zeros(self.count, dtype=bool)
            mask[np.asarray(allowed, dtype=np.int64)] = True
            scores = np.where(mask, scores, 0.0)
        return scores.astype(np.float32)

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) with score > 0; `allowed` restricts to those ids."""
        return top_k(self.scores(text, allowed), k)


@lru_cache(maxsize=1)
def _place_forms() -> dict[str, frozenset[str]]:
    """Stem → the other stems naming the same place ("dutch" → netherland, holland)."""
    forms: dict[str, frozenset[str]] = {}
    for group in PLACE_GROUPS:
        stems = frozenset(t for word in group for t in tokenize(word))
        for stem in stems:
            forms[stem] = forms.get(stem, frozenset()) | (stems - {stem})
    return forms


def weighted_share(weights: dict[str, float], present: Set[str]) -> float:
    """Share of the weight of `weights`' terms found in `present` (0 for no terms)."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best positive (scores, ids), best first, ties by id.

    Ranks only the passages that match at all: sorting all scores (as bm25s.retrieve does) cost ~107 ms at
    1M passages, mostly zero ties, against ~8 ms here.
    """
    matching = np.flatnonzero(scores > 0)
    if len(matching) > k:
        matching = matching[np.argpartition(-scores[matching], k - 1)[:k]]
    order = matching[np.lexsort((matching, -scores[matching]))]
    return scores[order].astype(np.float32), order.astype(np.int64)

"""BM25 over chunk texts (bm25s): catches the names and numbers dense vectors blur."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

__all__ = ["LexicalIndex", "tokenize", "LEXICAL_DIR"]

LEXICAL_DIR = "bm25"
# Keep "85%" and "REMX" whole; single letters and digits carry no signal.
_TOKEN = re.compile(r"(?u)\w\w+%?|\d+%")
_STEMMER = Stemmer.Stemmer("english")
# bm25s's list is short (33 words); questions are full of pronouns and auxiliaries it keeps.
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | frozenset(
    "about after again all also am any because been before being between both can could did do does doing down "
    "during each few from further had has have having he her here hers herself him himself his how i its itself "
    "just me more most my myself nor now only other our ours out over own same she should so some than them "
    "themselves those through too under until up very we were what when where which while who whom why would "
    "you your yours".split())
# Words that frame a question rather than name its subject; a passage need not contain them.
_QUESTION_TERMS = frozenset(_STEMMER.stemWords(
    "say said says tell told happen happened think mean explain know latest news new update going did does".split()))


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
    return _STEMMER.stemWords(words)


class LexicalIndex:
    """A BM25 index over every chunk; rebuilt whole because bm25s has no incremental add."""

    def __init__(self, model: bm25s.BM25, count: int) -> None:
        self._model = model
        self.count = count

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        model = bm25s.BM25()
        # bm25s needs a non-empty vocabulary; an all-stop-word chunk gets a placeholder term.
        model.index([tokenize(t) or ["\x00"] for t in texts], show_progress=False)
        return cls(model, len(texts))

    @classmethod
    def load(cls, folder: Path, count: int) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(folder / LEXICAL_DIR), mmap=False), count)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder / LEXICAL_DIR))

    def known_terms(self, text: str) -> list[str]:
        """The query's terms that occur in the corpus."""
        vocab = self._model.vocab_dict
        return [t for t in tokenize(text) if t in vocab]

    def subject_terms(self, text: str) -> list[str]:
        """Known terms that name a subject, not the question's framing ("what happened", "news")."""
        return [t for t in self.known_terms(text) if t not in _QUESTION_TERMS]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (0 when unknown)."""
        vocab = self._model.vocab_dict
        if term not in vocab:
            return 0.0
        df = self._document_frequency(vocab[term])
        return float(np.log(1 + (self.count - df + 0.5) / (df + 0.5)))

    def _document_frequency(self, token_id: int) -> int:
        indptr = self._model.scores["indptr"]
        return int(indptr[token_id + 1] - indptr[token_id])

    def coverage(self, query: str, passage: str) -> float:
        """Share of the query's informative terms (IDF-weighted) that the passage contains."""
        terms = {t for t in tokenize(query) if t not in _QUESTION_TERMS}
        if not terms:
            return 0.0
        unseen = float(np.log(1 + (self.count + 0.5) / 0.5))
        weights = {t: self.idf(t) or unseen for t in terms}
        present = terms & set(tokenize(passage))
        return sum(weights[t] for t in present) / sum(weights.values())

    def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) with score > 0; `allowed` restricts to those ids."""
        terms = self.known_terms(text)
        if not terms or self.count == 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        scores = self._model.get_scores(terms)
        if allowed is not None:
            mask = np.zeros(self.count, dtype=bool)
            mask[np.asarray(allowed, dtype=np.int64)] = True
            scores = np.where(mask, scores, 0.0)
        # Rank only the documents that match at all: bm25s.retrieve sorts all scores, which at
        # 1M passages (mostly zero ties) cost ~107 ms against ~8 ms here.
        matching = np.flatnonzero(scores > 0)
        if len(matching) > k:
            matching = matching[np.argpartition(-scores[matching], k - 1)[:k]]
        order = matching[np.lexsort((matching, -scores[matching]))]
        return scores[order].astype(np.float32), order.astype(np.int64)

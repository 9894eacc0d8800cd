"""Split articles into passages that fit the embedding model without cutting sentences."""

from __future__ import annotations

import re
from collections.abc import Iterator

from index.records import Article, Chunk

__all__ = ["split_sentences", "chunk_article", "MAX_WORDS", "TARGET_WORDS"]

# all-MiniLM-L6-v2 reads 256 word pieces; English news runs ~1.3 pieces a word and the
# title is prepended as context, so 170 words is the most that is never truncated.
MAX_WORDS = 170
TARGET_WORDS = 120

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


def _is_heading(paragraph: str) -> bool:
    """Short lines without closing punctuation are section headings."""
    return len(paragraph.split()) <= 12 and not paragraph.rstrip().endswith((".", "!", "?", "”", '"', ":"))


def _bounded(sentence: str) -> list[str]:
    """A sentence longer than the model can read is cut at word boundaries (the only split allowed mid-sentence)."""
    words = sentence.split()
    if len(words) <= MAX_WORDS:
        return [sentence]
    return [" ".join(words[i : i + MAX_WORDS]) for i in range(0, len(words), MAX_WORDS)]


def chunk_article(article: Article) -> list[Chunk]:
    """Greedy packing of whole sentences, preferring paragraph ends once a chunk is long enough.

    Paragraphs inside a chunk stay on their own lines so headings never run into sentences.
    """
    texts: list[str] = []
    paragraphs: list[list[str]] = []
    words = 0

    def flush() -> None:
        nonlocal paragraphs, words
        if paragraphs:
            texts.append("\n".join(" ".join(p) for p in paragraphs if p))
        paragraphs, words = [], 0

    for paragraph in (p.strip() for p in article.full_text.split("\n\n")):
        if not paragraph:
            continue
        heading = _is_heading(paragraph)
        paragraphs.append([])
        for sentence in (piece for s in split_sentences(paragraph) for piece in _bounded(s)):
            length = len(sentence.split())
            if words and words + length > MAX_WORDS:
                flush()
                paragraphs.append([])
            if sentence.startswith(_BULLETS) and paragraphs[-1]:
                paragraphs.append([])  # a bullet starts its own line, as in the brief
            paragraphs[-1].append(sentence)
            words += length
        # Never end a chunk on a heading: it belongs with the text it introduces.
        if words >= TARGET_WORDS and not heading:
            flush()
    flush()
    return [Chunk(article_id=article.id, position=i, text=t) for i, t in enumerate(texts)]

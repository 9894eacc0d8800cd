"""PDF briefs → Article: pdfium finds the text lines and where they sit, plain Python does the layout.

Layout works on geometry, not on the order text appears in the file (some writers emit rows across both
columns): running headers, footers and page numbers are recognised by repetition and position, columns
by the gutter no line crosses, paragraphs by blank space, indentation and short lines that end a sentence
or stand alone (a line at normal leading that leaves its sentence open continues the paragraph), and words
hyphenated at line ends are joined. The text then goes through the same brief rules as a .txt file
(index.brief_rules: date and byline lines, Highlights, furniture, mojibake). bench/pdf_extractors.py
measures why pdfium (pypdfium2) rather than pdfminer.six or pypdf.
"""

from __future__ import annotations

import re
import statistics
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from index.errors import RejectedInput
from index.brief_rules import brief_article, content_key, derive_title, parse_date
from index.records import Article

__all__ = ["TextLine", "PdfPage", "PdfMetadata", "Layout", "parse_pdf", "read_pdf", "merge_fragments",
           "strip_page_furniture", "reading_order", "layout", "join_lines", "NO_TEXT", "ENCRYPTED"]

NO_TEXT = "no text layer (scanned PDF?); run OCR on it (e.g. ocrmypdf) or add a text version"
ENCRYPTED = "encrypted PDF (it needs a password to open); add an unprotected copy"
_DAMAGED = "damaged PDF ({detail}); download or export it again"
# pdfium's load errors (FPDF_ERR_PASSWORD, FPDF_ERR_SECURITY) that mean "locked", not "broken".
_LOCKED_ERRORS = frozenset({4, 6})
# PDFium is not thread-safe; ingest parses in a worker thread and the bot may run more than one.
_PDFIUM_LOCK = threading.Lock()
_MARKER_WINDOW = 1024  # bytes searched for the %PDF- header and the %%EOF marker
_BAND = 0.12  # headers and footers sit in the top and bottom 12 % of a page
_REPEATED_SHARE = 0.4  # on at least 40 % of pages (alternating left/right headers are on half of them)
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–—(]?\s*\d{1,4}\s*(?:(?:of|/)\s*\d{1,4})?\s*[-–—)]?$", re.IGNORECASE)
# Hyphen, soft hyphen, Unicode hyphen, and what pdfium reports for any hyphen at a line end (\x02 in a
# line's text, U+FFFE where it joins lines itself); only a soft hyphen says for sure the word was broken.
_HYPHENS = "-\u00ad\u2010\x02\ufffe"
_SOFT_HYPHEN = "\u00ad"
_LINE_END_HYPHEN = re.compile(rf"([A-Za-zÀ-ÿ]+)[{_HYPHENS}]$")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:-[A-Za-zÀ-ÿ]+)*")
_SENTENCE_END = re.compile(r"[.!?:][\"”’)]?$")
# Baseline-to-baseline distance over type size for lines with no blank space between them, from set solid
# to 1.5-spaced; pdfium's line centres give 1.29–1.35 for fpdf2's 10 pt on 13 and 12 pt on 16.
_NORMAL_LEADING = (1.0, 1.5)
# How a line can end only inside a clause: a comma or semicolon, or a lowercase article, preposition or
# conjunction (headings, dates and bylines do not end so).
_CLAUSE_GOES_ON = re.compile(r"(?:[,;]|\b(?:a|an|the|of|to|in|on|at|by|for|from|with|and|or|but|as|than|that))$")
_TITLE_MAX_WORDS = 25
_MIN_WORDS = 5
_SOFTWARE = re.compile(
    r"microsoft|word|adobe|acrobat|indesign|illustrator|distiller|pdf|latex|tex\b|writer|office|quartz|chrom|"
    r"skia|reportlab|fpdf|ghostscript|printer|google|canva|pages|preview|scanner|\d+\.\d+",
    re.IGNORECASE,
)
_FILE_TITLE = re.compile(r"\.(?:docx?|pdf|indd|txt|rtf|odt|pages)$|^untitled|^document\d*$|^microsoft word - ",
                         re.IGNORECASE)


@dataclass(frozen=True)
class TextLine:
    """One line of text on a page, in points from the page's top-left corner."""

    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    text: str


@dataclass(frozen=True)
class PdfPage:
    """A page's size and its text lines in any order."""

    width: float
    height: float
    lines: tuple[TextLine, ...]


@dataclass(frozen=True)
class PdfMetadata:
    """The document information dictionary fields briefbot uses."""

    title: str = ""
    author: str = ""
    creator: str = ""
    created: date | None = None


@dataclass(frozen=True)
class Layout:
    """A document read in order: the first page's title block (biggest type) and the paragraphs after it."""

    title: str
    paragraphs: tuple[str, ...]


# ---------------------------------------------------------------------------
# pdfium: bytes → pages of lines
# ---------------------------------------------------------------------------


def _damaged(path: Path, detail: str) -> RejectedInput:
    """The rejection for a file that is not a readable PDF."""
    return RejectedInput(str(path), _DAMAGED.format(detail=detail))


def read_pdf(path: Path, raw: bytes) -> tuple[PdfMetadata, list[PdfPage]]:
    """Metadata and text lines of every page; encrypted or damaged files raise RejectedInput."""
    import pypdfium2 as pdfium  # imported lazily: only PDFs need the pdfium library

    if b"%PDF-" not in raw[:_MARKER_WINDOW]:
        raise _damaged(path, "no PDF header: it is not a PDF file")
    # pdfium silently rebuilds a cut file from what is left; a brief missing its end is not indexed half.
    if b"%%EOF" not in raw.rstrip(b"\x00\t\n\r ")[-_MARKER_WINDOW:]:
        raise _damaged(path, "truncated: the end-of-file marker is missing")
    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(raw)
        except pdfium.PdfiumError as error:
            if getattr(error, "err_code", None) in _LOCKED_ERRORS:
                raise RejectedInput(str(path), ENCRYPTED) from None
            raise _damaged(path, f"pdfium cannot read it: {error}") from None
        try:
            metadata = _metadata(document.get_metadata_dict())
            pages = []
            for number in range(len(document)):
                try:
                    pages.append(_page_lines(document[number]))
                except pdfium.PdfiumError as error:
                    raise _damaged(path, f"page {number + 1} cannot be read: {error}") from None
            return metadata, pages
        finally:
            document.close()


def _page_lines(page: object) -> PdfPage:
    """Lines of one page from pdfium's text rectangles (runs of characters on one line)."""
    import pypdfium2.raw as pdfium_c

    width, height = page.get_size()  # type: ignore[attr-defined]
    textpage = page.get_textpage()  # type: ignore[attr-defined]
    fragments = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        text = textpage.get_text_bounded(left, bottom, right, top).strip()
        if not text:
            continue
        char = textpage.get_index(left + 0.5, (bottom + top) / 2, 1.0, (top - bottom) / 2)
        size = pdfium_c.FPDFText_GetFontSize(textpage, char) if char is not None and char >= 0 else top - bottom
        # pdfium's y axis points up from the bottom of the page; layout reads top-down.
        fragments.append(TextLine(left, height - top, right, height - bottom, size or top - bottom, text))
    return PdfPage(width, height, tuple(merge_fragments(fragments)))


def merge_fragments(fragments: Iterable[TextLine]) -> list[TextLine]:
    """Pieces on one baseline with a word-sized gap become one line; a column gutter keeps them apart."""
    lines: list[TextLine] = []
    for piece in sorted(fragments, key=lambda f: (round(f.bottom), f.x0)):
        last = lines[-1] if lines else None
        same_line = last is not None and abs(last.bottom - piece.bottom) < 0.3 * piece.size
        if last is not None and same_line and 0 <= piece.x0 - last.x1 < 1.0 * piece.size:
            gap = " " if piece.x0 - last.x1 > 0.15 * piece.size else ""
            lines[-1] = TextLine(last.x0, min(last.top, piece.top), piece.x1, max(last.bottom, piece.bottom),
                                 max(last.size, piece.size), last.text + gap + piece.text)
        else:
            lines.append(piece)
    return lines


def _metadata(info: dict[str, str]) -> PdfMetadata:
    """Title, author, creator and creation date ("D:20250923…") from the information dictionary."""
    stamp = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", info.get("CreationDate", "").strip())
    created = parse_date("-".join(stamp.groups())) if stamp else None
    return PdfMetadata(info.get("Title", "").strip(), info.get("Author", "").strip(), info.get("Creator", "").strip(),
                       created)


# ---------------------------------------------------------------------------
# Layout: furniture, columns, paragraphs, hyphenation
# ---------------------------------------------------------------------------


def _furniture_key(line: TextLine) -> str:
    """Running headers repeat with a changing page number or date: compare them with digits masked."""
    return re.sub(r"\d+", "#", content_key(line.text))


def _in_band(line: TextLine, page: PdfPage) -> bool:
    """Whether a line sits where headers and footers go."""
    return line.top < _BAND * page.height or line.bottom > (1 - _BAND) * page.height


def _body_size(lines: Iterable[TextLine]) -> float:
    """The type size most of the text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _stands_apart(line: TextLine, page: PdfPage, body_size: float) -> bool:
    """A line in smaller type than the body with a wide gap to every other line: a header or a footer."""
    if line.size >= 0.95 * body_size:
        return False
    gaps = [max(o.top - line.bottom, line.top - o.bottom) for o in page.lines if o is not line]
    return min(gaps, default=0.0) > 2 * body_size


def strip_page_furniture(pages: Sequence[PdfPage]) -> list[PdfPage]:
    """Pages without running headers and footers or page numbers.

    Furniture sits in the top or bottom band and is repeated on most pages (digits masked), is a page
    number ("7", "Page 3 of 7", "- 3 -"), or, after the title page, is small type standing apart (a
    two-page brief has only one page to repeat a header on).
    """
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({_furniture_key(line) for line in page.lines if _in_band(line, page)})
    repeated = {key for key, count in seen.items() if count >= 2 and count >= _REPEATED_SHARE * len(pages)}
    body_size = _body_size(l for p in pages for l in p.lines)

    def furniture(line: TextLine, page: PdfPage, number: int) -> bool:
        return _in_band(line, page) and (_furniture_key(line) in repeated or bool(_PAGE_NUMBER.match(line.text))
                                         or (number > 0 and _stands_apart(line, page, body_size)))

    return [PdfPage(p.width, p.height, tuple(l for l in p.lines if not furniture(l, p, n)))
            for n, p in enumerate(pages)]


def _gutter(page: PdfPage) -> float | None:
    """The middle of the widest strip between columns that the fewest lines cross, if there are two columns."""
    xs = range(int(page.width * 0.3), int(page.width * 0.7) + 1)
    crossing = [sum(1 for l in page.lines if l.x0 < x < l.x1) for x in xs]
    fewest = min(crossing, default=0)
    runs: list[list[int]] = []
    for x, count in zip(xs, crossing):
        if count != fewest:
            continue
        if runs and runs[-1][-1] == x - 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    if not runs:
        return None
    widest = max(runs, key=len)
    gutter = (widest[0] + widest[-1]) / 2
    left = [l for l in page.lines if l.x1 <= gutter]
    right = [l for l in page.lines if l.x0 >= gutter]
    if not left or not right:
        return None
    # Two columns start level with each other (a short last column included); a lone right-aligned
    # line further down a one-column page does not make a column.
    level = abs(min(l.top for l in left) - min(l.top for l in right)) < 2 * right[0].size
    return gutter if min(len(left), len(right)) >= 3 or level else None


def reading_order(page: PdfPage) -> list[list[TextLine]]:
    """The page's lines as columns read top to bottom; a line across the gutter separates two sections."""
    lines = sorted(page.lines, key=lambda l: (l.top, l.x0))
    gutter = _gutter(page)
    if gutter is None:
        return [lines] if lines else []
    blocks: list[list[TextLine]] = []
    left: list[TextLine] = []
    right: list[TextLine] = []
    for line in lines:
        if line.x0 < gutter < line.x1:
            blocks.extend(b for b in (left, right, [line]) if b)
            left, right = [], []
        else:
            (left if line.x1 <= gutter else right).append(line)
    blocks.extend(b for b in (left, right) if b)
    return blocks


@dataclass(frozen=True)
class _Column:
    """Where a block of lines starts, its lines with their ends, and its usual line spacing."""

    left: float
    lines: tuple[TextLine, ...]
    spacing: float

    def right(self, size: float) -> float:
        """Where text of this size ends at the widest; bigger type (a title) may run wider than the text."""
        return max((l.x1 for l in self.lines if l.size <= 1.1 * size), default=0.0)


def _column(block: Sequence[TextLine]) -> _Column:
    """The block's most common line start, its lines, and the median distance between baselines."""
    starts = Counter(round(l.x0) for l in block)
    gaps = [b.bottom - a.bottom for a, b in zip(block, block[1:]) if b.bottom > a.bottom]
    spacing = statistics.median(gaps) if gaps else block[0].size * 1.2
    return _Column(float(starts.most_common(1)[0][0]), tuple(block), spacing)


def _centre(line: TextLine) -> float:
    """Where a line sits vertically: its middle moves less than its top or bottom with ascenders and descenders."""
    return (line.top + line.bottom) / 2


def _runs_on(prev: TextLine, line: TextLine) -> bool:
    """Whether the sentence `prev` leaves open goes on in the next line of its column and type size.

    The next line must follow at normal leading and start in lowercase (no sentence starts so), or `prev`
    must end inside a clause; a capital after a line like "Market reaction" or "By Jane Doe" starts anew.
    """
    if _SENTENCE_END.search(prev.text):
        return False
    low, high = _NORMAL_LEADING
    if not low * line.size <= _centre(line) - _centre(prev) <= high * line.size:
        return False
    return line.text[:1].islower() or bool(_CLAUSE_GOES_ON.search(prev.text))


def _starts_paragraph(prev: TextLine, line: TextLine, prev_column: _Column, column: _Column,
                      same_block: bool) -> bool:
    """Blank space, indentation, a change of type size, or a line broken before the right edge that does
    not leave its sentence open."""
    if abs(line.size - prev.size) > 0.1 * prev.size:
        return True
    if same_block and line.bottom - prev.bottom > 1.4 * max(column.spacing, 1.15 * line.size):
        return True
    if line.x0 > column.left + 0.8 * line.size:
        return True
    # Checked before the right edge: a hard-wrapped line may end far short of it inside a sentence.
    if prev.text.endswith(tuple(_HYPHENS)) or (same_block and _runs_on(prev, line)):
        return False
    # A line that ends although the next line's first word would have fitted was broken on purpose
    # (paragraph end, heading, date or byline line); word widths are estimated at half the type size.
    next_word = line.text.split()[0]
    return prev.x1 + (len(next_word) + 1) * 0.55 * prev.size < prev_column.right(prev.size)


def _paragraph_lines(blocks: Sequence[Sequence[TextLine]]) -> list[list[TextLine]]:
    """Lines grouped into paragraphs across blocks, columns and pages (text flows between them)."""
    paragraphs: list[list[TextLine]] = []
    prev_column: _Column | None = None
    for block in blocks:
        column = _column(block)
        for i, line in enumerate(block):
            prev = block[i - 1] if i else (paragraphs[-1][-1] if paragraphs else None)
            if prev is None or _starts_paragraph(prev, line, column if i else prev_column or column, column, i > 0):
                paragraphs.append([line])
            else:
                paragraphs[-1].append(line)
        prev_column = column
    return paragraphs


def _vocabulary(texts: Iterable[str]) -> tuple[set[str], set[str]]:
    """Words and hyphenated compounds seen inside lines, lower-cased; a line's first and last words are
    left out because they may be halves of a broken word."""
    words: set[str] = set()
    compounds: set[str] = set()
    for text in texts:
        for token in _WORD.findall(text)[1:-1]:
            (compounds if "-" in token else words).add(token.lower())
            words.update(part.lower() for part in token.split("-"))
    return words, compounds


def _keep_hyphen(head: str, tail: str, soft: bool, words: set[str], compounds: set[str]) -> bool:
    """Whether "head-" + "tail" at a line end is a compound ("rare-earth") rather than a broken word."""
    if soft or (head + tail).lower() in words:
        return False
    return f"{head}-{tail}".lower() in compounds or (
        len(head) > 2 and len(tail) > 2 and {head.lower(), tail.lower()} <= words)


def join_lines(lines: Sequence[str], words: set[str], compounds: set[str]) -> str:
    """One paragraph from its lines; a word broken at a line end is joined unless it is a real compound."""
    out = ""
    for text in lines:
        broken = _LINE_END_HYPHEN.search(out)
        nxt = _WORD.match(text)
        if broken and nxt and text[0].islower():
            head, tail = broken.group(1), nxt.group(0).split("-")[0]
            keep = _keep_hyphen(head, tail, out[-1] == _SOFT_HYPHEN, words, compounds)
            out = out[: broken.end(1)] + ("-" if keep else "") + text
        elif re.search(rf"\S[{_HYPHENS}]$", out) and not text[:1].islower():
            out = out[:-1] + "-" + text  # "U.S.-" + "China", "COVID-" + "19": the hyphen belongs to the name
        else:
            out = f"{out} {text}" if out else text
    return out


def _title_block(first_page: list[list[TextLine]], body_size: float) -> int | None:
    """Index of the first-page paragraph set in the biggest type, if it is bigger than the body text."""
    first = first_page[:8]
    if not first:
        return None
    biggest = max(range(len(first)), key=lambda i: (first[i][0].size, -i))
    lines = first[biggest]
    words = sum(len(l.text.split()) for l in lines)
    return biggest if lines[0].size > 1.15 * body_size and words <= _TITLE_MAX_WORDS else None


def layout(pages: Sequence[PdfPage]) -> Layout:
    """Read the pages in order: furniture removed, columns followed, paragraphs rebuilt, hyphens joined."""
    pages = strip_page_furniture(pages)
    first_blocks = reading_order(pages[0]) if pages else []
    blocks = [*first_blocks, *(b for p in pages[1:] for b in reading_order(p))]
    paragraphs = _paragraph_lines(blocks)
    all_lines = [l for p in paragraphs for l in p]
    if not all_lines:
        return Layout("", ())
    body_size = _body_size(all_lines)
    words, compounds = _vocabulary(l.text for l in all_lines)
    texts = [join_lines([l.text for l in p], words, compounds) for p in paragraphs]
    title = _title_block(paragraphs[: len(_paragraph_lines(first_blocks))], body_size)
    if title is None:
        return Layout("", tuple(texts))
    return Layout(texts[title], tuple(texts[:title] + texts[title + 1 :]))


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def _sensible_title(title: str) -> bool:
    """A metadata title a person wrote, not a file name or an application's placeholder."""
    return 2 <= len(title.split()) <= _TITLE_MAX_WORDS and not _FILE_TITLE.search(title.strip())


def _sensible_source(name: str, author: str | None) -> bool:
    """An organisation's name: not software, not a login name, not the byline's author."""
    return (bool(re.search(r"[A-Za-z]{2}", name)) and not _SOFTWARE.search(name) and " " in name.strip()
            and len(name.split()) <= 8 and name != author)


def _choose_title(metadata: PdfMetadata, read: Layout) -> tuple[str, tuple[str, ...]]:
    """The title and the paragraphs left: the first page's biggest line (the metadata's wording when they
    agree; a metadata title that differs is often a stale template name), else a sensible metadata title,
    else the first line if it is short."""
    meta = metadata.title if _sensible_title(metadata.title) else ""
    if read.title:
        return (meta if content_key(meta) == content_key(read.title) else read.title), read.paragraphs
    if meta:
        return meta, read.paragraphs
    first = read.paragraphs[0] if read.paragraphs else ""
    if len(first.split()) <= _TITLE_MAX_WORDS and not _SENTENCE_END.search(first):
        return first, read.paragraphs[1:]
    return derive_title(first), read.paragraphs


def parse_pdf(path: Path, raw: bytes) -> Article:
    """A PDF brief as an Article; scanned, encrypted and damaged files raise RejectedInput."""
    metadata, pages = read_pdf(path, raw)
    read = layout(pages)
    if sum(len(_WORD.findall(p)) for p in (read.title, *read.paragraphs)) < _MIN_WORDS:
        raise RejectedInput(str(path), NO_TEXT)
    title, paragraphs = _choose_title(metadata, read)
    article = brief_article(path, "\n\n".join(paragraphs), title=title, published_at=metadata.created)
    name = next((n for n in (metadata.author, metadata.creator) if _sensible_source(n, article.author)), None)
    return replace(article, source=name) if name else article

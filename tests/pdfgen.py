"""PDF briefs made in code for the PDF tests and bench/pdf_extractors.py: title page, two-column body, running
header and footer, words hyphenated at line ends, hard-wrapped lines, metadata, and the damaged kinds (scanned,
encrypted)."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone

from fpdf import FPDF

__all__ = ["PdfSpec", "make_pdf", "BODY", "TITLE", "scanned_pdf"]

TITLE = "Dysprosium Supply Tightens as Lynas Expands Its Kalgoorlie Cracking Plant"
BODY: tuple[str, ...] = (
    "Lynas Rare Earths said on Thursday that it will expand the Kalgoorlie cracking and leaching plant in Western "
    "Australia, adding capacity for mixed rare earth carbonate that is shipped to Malaysia for separation into "
    "individual oxides, including dysprosium and terbium for permanent magnets.",
    "The company said the expansion will cost about 500 million Australian dollars and should be finished in 2027, "
    "lifting output of neodymium and praseodymium by a third. Engineers have begun site works and ordered kilns "
    "from a supplier in Germany, while the state government fast-tracked the environmental approvals.",
    "Analysts said the expansion strengthens the only large heavy rare-earth supply chain outside China and that "
    "Japanese magnet manufacturers are expected to sign further offtake agreements with the company next year. "
    "Prices for dysprosium oxide in Rotterdam rose eleven percent in September on tight availability.",
    "Chinese separators have limited export sales since the licensing regime was introduced, and traders said "
    "spot cargoes of terbium were scarce. European buyers reported that applications for export permits took "
    "between six and ten weeks, pushing automotive suppliers toward long-term contracts with fixed volumes.",
    "The Pentagon has funded a heavy rare-earth separation circuit in Texas that is due to start commissioning "
    "next spring. Officials described the programme as an insurance policy against further restrictions and "
    "said that qualification of the first dysprosium product by magnet makers could take eighteen months.",
    "Environmental groups in Western Australia welcomed the decision to recycle process water at Kalgoorlie but "
    "asked for independent monitoring of radioactive residues. The company said thorium-bearing tailings will "
    "be stored in an engineered facility that was approved by the state regulator after a public consultation.",
    "Investors reacted cautiously. Shares of Lynas closed two percent higher in Sydney, while the broader "
    "materials index fell. Brokers noted that the capital programme depends on the cooperation of contractors "
    "who are already stretched by lithium and gold projects across the Goldfields region.",
    "Magnet makers in Japan said that diversification remains slow because qualification of a new oxide source "
    "requires months of testing. One procurement manager said that customers would pay a premium for traceable "
    "dysprosium that does not depend on a single government's export approvals.",
    "The brief concludes that the Kalgoorlie expansion is a meaningful but partial answer to the concentration "
    "of heavy rare-earth processing. Without additional separation capacity in Europe and North America, "
    "manufacturers will keep carrying high inventories and paying for insurance against supply interruptions.",
)
_PAGE_W, _PAGE_H = 595.0, 842.0
_MARGIN = 56.0
_GUTTER = 22.0
_BODY_SIZE, _LEADING = 10.0, 13.0
_BODY_TOP, _BODY_BOTTOM = 90.0, _PAGE_H - 80.0


@dataclass(frozen=True)
class PdfSpec:
    """What one generated brief looks like; every field defaults to a realistic brief."""

    title: str = TITLE  # "" for a first page without a title line
    date_line: str | None = "September 23, 2025"
    byline: str | None = "By Jane Doe"
    paragraphs: tuple[str, ...] = BODY
    lead_paragraphs: int = 1  # full-width paragraphs on the title page
    meta_title: str | None = None
    meta_created: datetime = datetime(2025, 10, 1, 9, 0, tzinfo=timezone.utc)
    meta_author: str | None = None
    meta_creator: str | None = "Microsoft Word for Microsoft 365"
    header: str | None = "Rare Earth Exchanges | Critical Minerals Brief"
    footer: str = "Page {page} of {pages}"
    columns: int = 2
    row_order: bool = False  # content stream in rows across both columns, furniture last (some converters do this)
    indent_paragraphs: bool = False  # first-line indent instead of a blank line between paragraphs
    hyphenate: bool = True
    # Lines broken after this many characters, as a hard-wrapped text file printed line by line, instead of
    # at the measure: proportional type leaves such lines ragged, some well short of the right edge.
    wrap_chars: int | None = None
    user_password: str | None = None
    owner_password: str | None = None
    repeat: int = 1  # the body repeated, for longer documents


@dataclass(frozen=True)
class _Op:
    """One line of text to draw: baseline position, font size, bold, text."""

    x: float
    y: float
    size: float
    bold: bool
    text: str
    furniture: bool = False


def _wrap(pdf: FPDF, text: str, width: float, size: float, indent: float, hyphenate: bool) -> list[tuple[float, str]]:
    """Greedy line breaking; long lowercase words (and compounds at their hyphen) break with a hyphen."""
    pdf.set_font("Helvetica", "", size)
    lines: list[tuple[float, str]] = []
    current, offset = "", indent
    words = text.split()
    i = 0
    while i < len(words):
        word = words[i]
        candidate = f"{current} {word}" if current else word
        if pdf.get_string_width(candidate) <= width - offset:
            current, i = candidate, i + 1
            continue
        head, tail = _split_word(pdf, word, current, width - offset, hyphenate)
        if head:
            lines.append((offset, f"{current} {head}" if current else head))
            words[i] = tail
        else:
            lines.append((offset, current))
        current, offset = "", 0.0
    if current:
        lines.append((offset, current))
    return lines


def _split_word(pdf: FPDF, word: str, current: str, room: float, hyphenate: bool) -> tuple[str, str]:
    """The longest "head-" of `word` that still fits after `current`, and the rest; ("", word) if none."""
    prefix = f"{current} " if current else ""
    if "-" in word.strip("-"):
        head, tail = word.split("-", 1)
        if pdf.get_string_width(f"{prefix}{head}-") <= room:
            return f"{head}-", tail
    if not hyphenate or not word.isalpha() or not word.islower() or len(word) < 8:
        return "", word
    for cut in range(len(word) - 3, 3, -1):
        if pdf.get_string_width(f"{prefix}{word[:cut]}-") <= room:
            return f"{word[:cut]}-", word[cut:]
    return "", word


def _break_lines(pdf: FPDF, spec: PdfSpec, text: str, width: float, size: float,
                 indent: float) -> list[tuple[float, str]]:
    """A paragraph's lines with their offsets: at the spec's character count if it has one, else at the measure."""
    if spec.wrap_chars:
        lines = textwrap.wrap(text, spec.wrap_chars, break_long_words=False, break_on_hyphens=False)
        return [(indent if number == 0 else 0.0, line) for number, line in enumerate(lines)]
    return _wrap(pdf, text, width, size, indent, spec.hyphenate)


def _title_page(pdf: FPDF, spec: PdfSpec, paragraphs: list[str]) -> list[_Op]:
    """Big title, date line, byline and the lead paragraphs across the full width."""
    ops: list[_Op] = []
    y = 120.0
    for _, line in _wrap(pdf, spec.title, _PAGE_W - 2 * _MARGIN, 22, 0, False) if spec.title else []:
        ops.append(_Op(_MARGIN, y, 22, True, line))
        y += 28
    y += 6
    for extra in (spec.date_line, spec.byline):
        if extra:
            ops.append(_Op(_MARGIN, y, 11, False, extra))
            y += 16
    y += 12
    for text in paragraphs[: spec.lead_paragraphs]:
        for offset, line in _break_lines(pdf, spec, text, _PAGE_W - 2 * _MARGIN, 12, 0):
            ops.append(_Op(_MARGIN + offset, y, 12, False, line))
            y += 16
        y += 8
    return ops


def _body_pages(pdf: FPDF, spec: PdfSpec, paragraphs: list[str]) -> list[list[_Op]]:
    """The remaining paragraphs flowed through the columns of as many pages as they need (none if none remain)."""
    if not paragraphs:
        return []
    width = (_PAGE_W - 2 * _MARGIN - _GUTTER * (spec.columns - 1)) / spec.columns
    pages: list[list[_Op]] = [[]]
    column, y = 0, _BODY_TOP
    for text in paragraphs:
        indent = 14.0 if spec.indent_paragraphs else 0.0
        for offset, line in _break_lines(pdf, spec, text, width, _BODY_SIZE, indent):
            if y > _BODY_BOTTOM:
                column, y = column + 1, _BODY_TOP
                if column == spec.columns:
                    pages.append([])
                    column = 0
            x = _MARGIN + column * (width + _GUTTER) + offset
            pages[-1].append(_Op(x, y, _BODY_SIZE, False, line))
            y += _LEADING
        if not spec.indent_paragraphs:
            y += _LEADING * 0.7
    return pages


def _furniture(spec: PdfSpec, page: int, pages: int) -> list[_Op]:
    """Running header (not on the title page) and footer with the page number."""
    ops = []
    if spec.header and page > 1:
        ops.append(_Op(_MARGIN, 50, 8, False, spec.header, True))
    ops.append(_Op(_PAGE_W / 2 - 20, _PAGE_H - 40, 8, False, spec.footer.format(page=page, pages=pages), True))
    return ops


def _draw(pdf: FPDF, ops: list[_Op], row_order: bool) -> None:
    """Emit one page's text in reading order, or in rows across the columns with the furniture last."""
    if row_order:
        ops = sorted((op for op in ops if not op.furniture), key=lambda op: (op.y, op.x)) + [
            op for op in ops if op.furniture]
    for op in ops:
        pdf.set_font("Helvetica", "B" if op.bold else "", op.size)
        pdf.text(op.x, op.y, op.text)


def _new_document(spec: PdfSpec) -> FPDF:
    """An A4 document in points with the spec's metadata and encryption."""
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(spec.meta_created)
    if spec.meta_title:
        pdf.set_title(spec.meta_title)
    if spec.meta_author:
        pdf.set_author(spec.meta_author)
    if spec.meta_creator:
        pdf.set_creator(spec.meta_creator)
    if spec.owner_password or spec.user_password:
        pdf.set_encryption(owner_password=spec.owner_password or "owner", user_password=spec.user_password)
    return pdf


def make_pdf(spec: PdfSpec = PdfSpec()) -> bytes:
    """The brief described by `spec` as PDF bytes."""
    pdf = _new_document(spec)
    paragraphs = list(spec.paragraphs) * spec.repeat
    pages = [_title_page(pdf, spec, paragraphs), *_body_pages(pdf, spec, paragraphs[spec.lead_paragraphs :])]
    for number, ops in enumerate(pages, start=1):
        pdf.add_page()
        _draw(pdf, ops + _furniture(spec, number, len(pages)), spec.row_order)
    return bytes(pdf.output())


def scanned_pdf(pages: int = 2) -> bytes:
    """Image-only pages, like a scan without OCR: no text layer at all."""
    from PIL import Image, ImageDraw

    pdf = FPDF(unit="pt", format="A4")
    for _ in range(pages):
        image = Image.new("L", (300, 420), 255)
        draw = ImageDraw.Draw(image)
        for row in range(40, 400, 12):
            draw.line((30, row, 270, row), fill=60, width=3)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pdf.add_page()
        pdf.image(buffer, x=40, y=40, w=_PAGE_W - 80)
    return bytes(pdf.output())

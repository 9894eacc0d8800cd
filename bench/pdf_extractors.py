"""Which PDF text library for index/pdf.py: pypdfium2, pdfminer.six and pypdf on briefs made in code.

    .venv/bin/pip install pdfminer.six pypdf      # the two that are not dependencies
    .venv/bin/python bench/pdf_extractors.py [--runs 5]

Documents (tests/pdfgen.py): a title page, two-column body pages, a running header, "Page n of N"
footers and words hyphenated at line ends, 13 pages; once with the text in reading order in the file
and once written in rows across both columns with the furniture last (as some converters do).
For each library: its own plain-text output (are the columns read in order? does it keep line ends, so
hyphenation can be undone?), whether it gives line positions and type sizes (needed to remove headers,
footers and page numbers and to find the title), the same lines through briefbot's layout
(index.pdf.layout), the median time of `--runs` runs, and the installed size with dependencies.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata as metadata
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.pdf import PdfPage, TextLine, layout, merge_fragments, read_pdf  # noqa: E402
from tests.pdfgen import PdfSpec, make_pdf  # noqa: E402

REPEAT = 15
FURNITURE = re.compile(r"Page \d+ of \d+|Rare Earth Exchanges \| Critical Minerals Brief")


# --------------------------------------------------------------------------- plain text, as each library gives it


def plain_pdfium(data: bytes) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(document)))


def plain_pdfminer(data: bytes) -> str:
    import io

    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(data))


def plain_pypdf(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# --------------------------------------------------------------------------- lines with positions and sizes


def lines_pdfium(data: bytes) -> list[PdfPage]:
    return read_pdf(Path("bench.pdf"), data)[1]


def lines_pdfminer(data: bytes) -> list[PdfPage]:
    import io

    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar, LTTextContainer, LTTextLine

    pages = []
    for page in extract_pages(io.BytesIO(data)):
        lines = []
        for box in page:
            if not isinstance(box, LTTextContainer):
                continue
            for line in box:
                if isinstance(line, LTTextLine) and line.get_text().strip():
                    sizes = [c.size for c in line if isinstance(c, LTChar)]
                    lines.append(TextLine(line.x0, page.height - line.y1, line.x1, page.height - line.y0,
                                          statistics.median(sizes), line.get_text().strip()))
        pages.append(PdfPage(page.width, page.height, tuple(lines)))
    return pages


def lines_pypdf(data: bytes) -> list[PdfPage]:
    """pypdf's visitor gives each text run's start and size but no width: it is estimated at 0.45 em a character."""
    import io

    from pypdf import PdfReader

    pages = []
    for page in PdfReader(io.BytesIO(data)).pages:
        height = float(page.mediabox.height)
        pieces: list[TextLine] = []

        def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
            if text.strip():
                scale = size * tm[3] * cm[3] if tm[3] and cm[3] else size
                x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
                pieces.append(TextLine(x, height - y - scale, x + 0.45 * scale * len(text), height - y, scale,
                                       text.strip()))

        page.extract_text(visitor_text=visit)
        pages.append(PdfPage(float(page.mediabox.width), height, tuple(merge_fragments(pieces))))
    return pages


LIBRARIES: dict[str, tuple[str, Callable[[bytes], str], Callable[[bytes], list[PdfPage]]]] = {
    "pypdfium2": ("pypdfium2", plain_pdfium, lines_pdfium),
    "pdfminer.six": ("pdfminer.six", plain_pdfminer, lines_pdfminer),
    "pypdf": ("pypdf", plain_pypdf, lines_pypdf),
}


# --------------------------------------------------------------------------- measures


def installed_mb(name: str, seen: set[str] | None = None) -> float:
    """Installed size of a distribution and everything it requires (without extras), in MB."""
    seen = set() if seen is None else seen
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return 0.0
    seen.add(key)
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return 0.0
    size = sum(f.locate().stat().st_size for f in dist.files or [] if Path(str(f.locate())).is_file())
    for requirement in dist.requires or []:
        if "extra ==" in requirement:
            continue
        size += 1e6 * installed_mb(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0], seen)
    return size / 1e6


def _words(text: str) -> list[str]:
    return text.split()


def columns_in_order(text: str, paragraphs: list[str]) -> bool:
    """Every paragraph's first line-worth of words appears, in the document's order, as a run."""
    flat = " ".join(text.split())
    position = -1
    for paragraph in paragraphs:
        opening = " ".join(paragraph.split()[:4])
        found = flat.find(opening, position + 1)
        if found < 0:
            return False
        position = found
    return True


def word_accuracy(got: str, expected: list[str]) -> float:
    """Share of the source's words recovered in order (1.0 = every word, none split or interleaved)."""
    matcher = difflib.SequenceMatcher(a=expected, b=_words(got), autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(expected)


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(runs: int) -> list[dict[str, object]]:
    spec = PdfSpec(repeat=REPEAT)
    body = list(spec.paragraphs) * REPEAT
    expected = " ".join(body[spec.lead_paragraphs :]).split()
    documents = {"stream": make_pdf(spec), "rows": make_pdf(PdfSpec(repeat=REPEAT, row_order=True))}
    rows = []
    for label, (dist, plain, lines) in LIBRARIES.items():
        row: dict[str, object] = {"library": f"{label} {metadata.version(dist)}", "install_mb": installed_mb(dist)}
        for kind, data in documents.items():
            text = plain(data)
            read = layout(lines(data))
            row[f"plain_order_{kind}"] = columns_in_order(text, body)
            row[f"plain_furniture_{kind}"] = len(FURNITURE.findall(text))
            row[f"layout_order_{kind}"] = columns_in_order("\n".join(read.paragraphs), body[1:])
            row[f"layout_words_{kind}"] = word_accuracy("\n".join(read.paragraphs[1:]), expected)
            row[f"layout_furniture_{kind}"] = len(FURNITURE.findall("\n".join(read.paragraphs)))
            row[f"title_{kind}"] = read.title == spec.title
        # A line-end hyphen kept before a line break, or marked by pdfium (U+FFFE) where it joined the lines.
        row["hyphen_line_ends"] = len(re.findall("[a-z](?:-\n|\ufffe)[a-z]", plain(documents["stream"])))
        row["plain_s"] = median_seconds(lambda: plain(documents["stream"]), runs)
        row["lines_s"] = median_seconds(lambda: lines(documents["stream"]), runs)
        rows.append(row)
    return rows


def _yes(value: object) -> str:
    return "yes" if value else "**no**"


def table(rows: list[dict[str, object]]) -> str:
    """The measurements as the README's markdown table."""
    header = ("| library | installed (with deps) | plain text: columns in order (file order / rows) | "
              "line ends with hyphen kept | briefbot layout on its lines: order (file / rows), words in order, "
              "furniture left, title | plain text / lines, median |")
    out = [header, "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(
            f"| {r['library']} | {r['install_mb']:.1f} MB | {_yes(r['plain_order_stream'])} / "
            f"{_yes(r['plain_order_rows'])} | {r['hyphen_line_ends']} | {_yes(r['layout_order_stream'])} / "
            f"{_yes(r['layout_order_rows'])}, {100 * float(r['layout_words_rows']):.1f} %, "
            f"{r['layout_furniture_rows']}, {_yes(r['title_rows'])} | "
            f"{1000 * float(r['plain_s']):.0f} / {1000 * float(r['lines_s']):.0f} ms |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = make_pdf(PdfSpec(repeat=REPEAT))
    furniture = len(FURNITURE.findall(plain_pdfium(data)))
    print(f"{len(lines_pdfium(data))}-page brief ({len(data) // 1024} KB, {furniture} header/footer lines), "
          f"median of {args.runs} runs\n")
    print(table(measure(args.runs)))


if __name__ == "__main__":
    main()

"""PDF briefs (index/pdf.py): reading order, furniture, hyphenation, metadata, rejections, CLI and inbox ingest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from bot.cli import main
from bot.sources.inbox import REJECTED_DIR, process_inbox
from index.chunk import split_sentences
from index.embed import Embedder
from index.engine import Engine
from index.errors import RejectedInput
from index.parse import parse_file
from index.pdf import PdfPage, TextLine, join_lines, layout, read_pdf
from index.records import Article
from tests.conftest import SAMPLES, SAMPLE_TODAY
from tests.pdfgen import BODY, TITLE, PdfSpec, make_pdf, scanned_pdf

# Compounds whose hyphen the generator may put at a line end; only "thorium-bearing" appears nowhere else
# in the text, so nothing tells it from a hyphenated word and it comes out joined (a documented limit).
AMBIGUOUS = {"thorium-bearing": "thoriumbearing"}
# The operator's brief of issue 17: one column, hard-wrapped, sentences running over line ends.
NIRON_TITLE = "Iron Nitride Magnets Get a Minnesota Plant"
NIRON: tuple[str, ...] = (
    "Niron Magnetics received 40 million dollars in loans from the state of Minnesota and a federal programme to "
    "build a plant in Sartell that will sell iron nitride magnets to aerospace and fuel-cell customers, the first "
    "such output in North America. The company said that production would begin in 2026 and that the plant would "
    "employ about two hundred people.",
    "Analysts said that magnets without rare earths will not replace neodymium magnets in electric vehicles soon, "
    "but that they could take a share of the market for pumps, fans and small motors. Prices for neodymium oxide "
    "fell in October after a rise in the summer.",
)


def _pdf(tmp_path: Path, spec: PdfSpec = PdfSpec(), name: str = "brief.pdf") -> Path:
    """The generated brief written to tmp_path."""
    path = tmp_path / name
    path.write_bytes(make_pdf(spec))
    return path


def _article(path: Path) -> Article:
    """The one article a PDF yields."""
    parsed = parse_file(path)
    assert len(parsed.articles) == 1 and not parsed.rejected
    return parsed.articles[0]


def _expected(paragraph: str) -> str:
    """A source paragraph as the reader should get it back."""
    for compound, joined in AMBIGUOUS.items():
        paragraph = paragraph.replace(compound, joined)
    return paragraph


def _rejection(path: Path) -> str:
    """The reason a file is rejected with."""
    with pytest.raises(RejectedInput) as err:
        parse_file(path)
    assert err.value.path == str(path)
    return err.value.reason


# --- reading order, furniture, hyphenation ----------------------------------------------------------


@pytest.mark.parametrize("row_order", [False, True], ids=["file-order", "rows-across-columns"])
def test_two_columns_are_read_in_order(tmp_path: Path, row_order: bool) -> None:
    article = _article(_pdf(tmp_path, PdfSpec(row_order=row_order, repeat=2)))
    flat = " ".join(article.body.split())
    position = -1
    for paragraph in BODY * 2:
        found = flat.find(_expected(paragraph), position + 1)
        assert found > position, paragraph[:60]  # whole paragraphs, verbatim, in the source order
        position = found


@pytest.mark.parametrize("footer", ["Page {page} of {pages}", "{page}", "- {page} -"])
def test_running_headers_footers_and_page_numbers_are_removed(tmp_path: Path, footer: str) -> None:
    article = _article(_pdf(tmp_path, PdfSpec(footer=footer, repeat=3)))
    assert "Critical Minerals Brief" not in article.body
    assert not re.search(r"\bPage \d", article.body)
    assert not [p for p in article.body.split("\n\n") if re.fullmatch(r"[-\d ]+", p)]
    assert article.body.count("\n\n") + 1 >= 3 * len(BODY) - 3  # paragraphs rebuilt, not one blob


def test_a_header_on_the_only_body_page_is_removed_too(tmp_path: Path) -> None:
    path = _pdf(tmp_path)  # two pages: the header appears once, so repetition cannot find it
    assert parse_file(path).articles[0].body.count("Critical Minerals Brief") == 0


def test_paragraphs_from_indentation(tmp_path: Path) -> None:
    article = _article(_pdf(tmp_path, PdfSpec(indent_paragraphs=True, header=None)))
    assert article.body.split("\n\n") == [_expected(p) for p in BODY]


def test_words_hyphenated_at_line_ends_are_joined(tmp_path: Path) -> None:
    path = _pdf(tmp_path, PdfSpec(repeat=2))
    raw_lines = re.findall("[a-z]+[-\x02]$", "\n".join(_line_texts(path)), re.MULTILINE)
    assert len(raw_lines) >= 15  # the document really hyphenates at line ends
    body = _article(path).body
    source_words = set(re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", " ".join(BODY)))
    body_words = set(re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", body))
    assert body_words - source_words == set(AMBIGUOUS.values())
    assert "rare-earth" in body and "long-term" in body and "fast-tracked" in body  # real compounds kept


def _line_texts(path: Path) -> list[str]:
    """Raw lines as pdfium reads them (before layout)."""
    return [line.text for page in read_pdf(path, path.read_bytes())[1] for line in page.lines]


def test_sentences_run_on_over_line_ends_in_one_column(tmp_path: Path) -> None:
    # 12 pt type on 16 pt leading, each line its own text run, lines broken after 85 characters: some end far
    # short of the widest line although the next line's first word would have fitted there.
    spec = PdfSpec(title=NIRON_TITLE, date_line=None, byline=None, paragraphs=NIRON, lead_paragraphs=len(NIRON),
                   header=None, columns=1, wrap_chars=85)
    path = _pdf(tmp_path, spec)
    assert len(read_pdf(path, path.read_bytes())[1]) == 1
    assert "to aerospace and fuel-cell customers, the first such output in North America. The" in _line_texts(path)
    article = _article(path)
    assert article.title == NIRON_TITLE
    paragraphs = article.body.split("\n\n")
    assert paragraphs == list(NIRON)
    sentences = [s for p in paragraphs for s in split_sentences(p)]
    assert len(sentences) == 4
    assert all(s[0].isupper() and s[-1] in ".!?" for s in sentences), sentences
    assert any("received 40 million dollars in loans" in p and "to aerospace and fuel-cell customers" in p
               for p in paragraphs)


def _column_page(lines: list[tuple[str, float]]) -> PdfPage:
    """One column of (text, right end) lines at x 56 in 12 pt type on 16 pt leading, as pdfium reports them."""
    placed = [TextLine(56.0, 90.4 + 16 * n, x1, 102.4 + 16 * n, 12.0, text) for n, (text, x1) in enumerate(lines)]
    return PdfPage(595.0, 842.0, tuple(placed))


def test_lines_ending_inside_a_sentence_continue_the_paragraph() -> None:
    # Every line but the last ends short of the widest with room for the next line's first word.
    read = layout([_column_page([
        ("Market reaction", 150.0),  # a heading: the capital after it starts a paragraph
        ("Shares of the backers rose after the state of", 380.0),  # a line never ends on "of"
        ("Minnesota confirmed the loans,", 260.0),  # nor on a comma
        ("Texas and Ohio said they would follow", 330.0),  # lowercase after it: the sentence goes on
        ("soon after the vote in the state senate and the public hearings next month.", 540.0),
    ])])
    assert read.paragraphs == (
        "Market reaction",
        "Shares of the backers rose after the state of Minnesota confirmed the loans, Texas and Ohio said they "
        "would follow soon after the vote in the state senate and the public hearings next month.",
    )


def test_join_lines_rules() -> None:
    words = {"rare", "earth", "magnets", "dysprosium"}
    lines = ["the dyspro-", "sium market and rare-", "earth magnets, U.S.-", "China talks, COVID-", "19 and", "the pro\u00ad",
             "duction of dyspro-", "sium."]
    assert join_lines(lines, words, {"rare-earth"}) == (
        "the dysprosium market and rare-earth magnets, U.S.-China talks, COVID-19 and the production of dysprosium.")


# --- title, date, source -------------------------------------------------------------------------


def test_title_date_and_byline_from_the_first_page(tmp_path: Path) -> None:
    article = _article(_pdf(tmp_path))  # no /Title; /CreationDate is 2025-10-01, the page says Sep 23
    assert article.title == TITLE  # the biggest line, both of its lines
    assert article.published_at == date(2025, 9, 23)
    assert article.author == "Jane Doe"
    assert article.source is None  # /Creator is the word processor
    assert article.body.startswith("Lynas Rare Earths said on Thursday")
    assert "September 23, 2025" not in article.body and TITLE not in article.body


def test_title_and_date_from_metadata(tmp_path: Path) -> None:
    spec = PdfSpec(title="", date_line=None, byline=None, meta_title="Kalgoorlie Expansion and the Dysprosium Market",
                   meta_created=datetime(2025, 9, 24, 8, 30, tzinfo=timezone.utc),
                   meta_author="Critical Metals Research")
    article = _article(_pdf(tmp_path, spec))
    assert article.title == "Kalgoorlie Expansion and the Dysprosium Market"
    assert article.published_at == date(2025, 9, 24)
    assert article.source == "Critical Metals Research"
    assert article.body.startswith("Lynas Rare Earths said on Thursday")


def test_metadata_placeholders_are_ignored(tmp_path: Path) -> None:
    spec = PdfSpec(meta_title="Microsoft Word - brief_final.docx", meta_author="jdoe", meta_creator="Adobe InDesign 19.0")
    article = _article(_pdf(tmp_path, spec))
    assert article.title == TITLE and article.source is None


def test_metadata_title_wording_wins_when_it_matches_the_page(tmp_path: Path) -> None:
    article = _article(_pdf(tmp_path, PdfSpec(meta_title=TITLE.upper())))
    assert article.title == TITLE.upper() and TITLE not in article.body


def test_a_pdf_under_another_extension_is_read_as_pdf(tmp_path: Path) -> None:
    assert _article(_pdf(tmp_path, name="brief.txt")).title == TITLE


def test_owner_password_only_is_readable(tmp_path: Path) -> None:
    # Permissions-only encryption: every reader opens it without a password, and so does briefbot.
    assert _article(_pdf(tmp_path, PdfSpec(owner_password="owner-only"))).title == TITLE


# --- rejections ------------------------------------------------------------------------------------


def test_scanned_pdf_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(scanned_pdf())
    assert _rejection(path).startswith("no text layer (scanned PDF?)")


def test_encrypted_pdf_is_rejected(tmp_path: Path) -> None:
    assert _rejection(_pdf(tmp_path, PdfSpec(user_password="secret"))).startswith("encrypted PDF")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95, -8])
def test_truncated_pdf_is_rejected(tmp_path: Path, keep: float) -> None:
    data = make_pdf()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: int(len(data) * keep)] if keep > 0 else data[: int(keep)])
    reason = _rejection(path)
    assert reason.startswith("damaged PDF") and "again" in reason


def test_not_a_pdf_is_rejected_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("Plain notes saved with the wrong extension.\n", encoding="utf-8")
    assert _rejection(path).startswith("damaged PDF (no PDF header")


def test_a_bad_pdf_leaves_the_index_unchanged(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    before = engine.snapshot.manifest
    rows = engine.snapshot.query("SELECT id, title, body FROM articles ORDER BY seq")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "scan.pdf").write_bytes(scanned_pdf())
    (bad / "locked.pdf").write_bytes(make_pdf(PdfSpec(user_password="secret")))
    (bad / "cut.pdf").write_bytes(make_pdf()[:-400])
    report = engine.ingest([bad])
    assert sorted(Path(r.path).name for r in report.rejected) == ["cut.pdf", "locked.pdf", "scan.pdf"]
    assert not report.added and report.manifest is None  # no new generation was written
    reopened = Engine(engine.data_dir, embedder=engine.embedder)
    assert reopened.snapshot.manifest == before
    assert reopened.snapshot.query("SELECT id, title, body FROM articles ORDER BY seq") == rows


# --- ingest paths ------------------------------------------------------------------------------------


def test_cli_ingest_of_a_pdf_then_ask_cites_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BRIEFBOT_MODEL", "hash")
    data = tmp_path / "data"
    pdf = _pdf(tmp_path)
    assert main(["ingest", "--data-dir", str(data), str(SAMPLES), str(pdf)]) == 0
    assert "added 3 article(s)" in capsys.readouterr().out
    assert main(["ask", "--data-dir", str(data), "--json", "How much will the Kalgoorlie expansion cost?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    citation = answer["passages"][0]["citation"]
    assert citation["title"] == TITLE and citation["path"] == str(pdf)
    assert citation["published_at"] == "2025-09-23"
    assert "500 million Australian dollars" in " ".join(p["text"] for p in answer["passages"])


def test_inbox_ingests_a_pdf_and_rejects_a_scan(hash_engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = hash_engine_factory()
    inbox, articles = tmp_path / "inbox", tmp_path / "articles"
    inbox.mkdir()
    _pdf(inbox)
    (inbox / "scan.pdf").write_bytes(scanned_pdf())
    result = process_inbox(engine, inbox, articles, settle_seconds=0)
    assert [a.title for a in result.added] == [TITLE]
    assert [p.name for p in result.stored] == ["brief.pdf"] and (articles / "brief.pdf").exists()
    assert result.rejected["scan.pdf"].startswith("no text layer (scanned PDF?)")
    assert (inbox / REJECTED_DIR / "scan.pdf.reason").read_text().startswith("no text layer")
    assert not list(inbox.glob("*.pdf"))


@pytest.mark.integration
def test_real_model_answers_from_a_pdf(tmp_path: Path, real_embedder: Embedder) -> None:
    engine = Engine(tmp_path / "data", embedder=real_embedder, today=lambda: SAMPLE_TODAY)
    engine.ingest([SAMPLES, _pdf(tmp_path, replace(PdfSpec(), footer="{page}"))])
    answer, _ = engine.ask("Who is expanding the cracking plant at Kalgoorlie?")
    assert answer.passages and answer.passages[0].hit.citation.title == TITLE
    assert "Kalgoorlie" in answer.passages[0].highlight

"""Tests for index.parse and the brief rules it shares (index.brief_rules): every supported format, metadata, and
clear rejections."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import index.parse as parse
from index.brief_rules import content_key, derive_title, parse_date
from index.errors import RejectedInput
from index.parse import parse_file
from index.records import Article
from tests.conftest import WIKINEWS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_000 = ROOT / "data/articles/000_cf58dd7b26a1b221.txt"
SAMPLE_003 = ROOT / "data/articles/003_1f9207a099621c55.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures/ingest"

FURNITURE = [
    "opens in a new tab",
    "wp:paragraph",
    "Spread the word",
    "CATEGORIES",
    "Recent Reex News",
    "Recent Posts",
    "Related Articles",
    "ASEAN's Critical Minerals Moment",
    "Inspired to launch",
    "By Daniel",
    "Comments",
    "Submit a Comment",
    "Leave a Reply",
    "Your email address",
    "Straight Into Your Inbox",
    "Receive a Daily News Update",
    "Thanks for subscribing",
    "Subscribe to our newsletter",
    "Share this",
    "About Rare Earth Exchanges",
    "leading independent platform",
    "REEx Forum",
    "Citation:",
]


def _one(path: Path) -> Article:
    """The single article a file yields."""
    parsed = parse_file(path)
    assert len(parsed.articles) == 1 and not parsed.rejected
    return parsed.articles[0]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """A file under tmp_path with the given text (UTF-8) or bytes."""
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _assert_clean(article: Article) -> None:
    """No furniture or mojibake anywhere the index will see."""
    text = "\n".join([article.title, *article.highlights, article.body])
    for marker in FURNITURE:
        assert marker.lower() not in text.lower(), marker
    for broken in ("โ€", "ย", "\u00a0", "©"):
        assert broken not in text


# --- the real samples ---------------------------------------------------------


def test_sample_000() -> None:
    article = _one(SAMPLE_000)
    assert article.title == "Has U.S.-China Trade Truce Faltered Over Rare Earths?"
    assert article.published_at is None
    assert len(article.highlights) == 3
    assert article.highlights[0].startswith("China’s strategic delay")
    assert "Can Geneva Be Salvaged?" in article.body
    assert "• Were the terms too vague to be enforceable?" in article.body
    assert article.body.endswith("in this evolving geopolitical mineral war.")
    assert article.source == "Rare Earth Exchanges"
    assert article.path == str(SAMPLE_000)
    _assert_clean(article)


def test_sample_003() -> None:
    article = _one(SAMPLE_003)
    assert article.title == "U.S.-China Rare Earth Dispute: Meetings Without Movement"
    assert article.published_at == date(2025, 9, 23)
    assert len(article.highlights) == 3
    assert "Representative Adam Smith" in article.body
    assert "the U.S.–China rare earths dispute" in article.body
    assert "“I don’t think we resolved the rare earth question.”" in article.body
    assert "piece. Beijing still controls licensing" in article.body
    assert "REEx View: The Vital Missing Key" in article.body
    assert article.body.endswith("dictate the rhythm of global rare earth supply.")
    assert article.source == "Rare Earth Exchanges"  # the publisher, not the cited Cryptopolitan
    assert article.author == "Daniel"  # from the author box in the furniture
    _assert_clean(article)


def test_body_excludes_header_and_keeps_paragraphs() -> None:
    article = _one(SAMPLE_003)
    assert not article.body.startswith(article.title)
    assert "Sep 23, 2025" not in article.body
    assert article.highlights[0] not in article.body
    assert "\n\nThe Facts That Hold\n\n" in article.body
    assert "\n\n\n" not in article.body


def test_sample_ids_are_content_derived_and_stable(tmp_path: Path) -> None:
    article = _one(SAMPLE_003)
    assert len(article.id) == 16 and int(article.id, 16) >= 0
    # Extra spaces and blank lines do not change the id.
    text = SAMPLE_003.read_text(encoding="utf-8").replace("\n\n", "\n\n\n").replace(". ", ".  ")
    assert _one(_write(tmp_path, "copy.txt", text)).id == article.id


def test_invented_brief_with_other_furniture_wording() -> None:
    article = _one(FIXTURES / "third_brief.md")
    assert article.title == "Malaysia Tightens Rare Earth Export Rules as Processing Ambitions Grow"
    assert article.published_at == date(2025, 10, 2)
    assert article.author == "Maria Lopez"
    assert len(article.highlights) == 3
    assert "Why the Rule Matters" in article.body and "## " not in article.body
    assert "Shares of Lynas rose 4%" in article.body
    assert "By The Numbers" in article.body
    assert article.body.endswith("rather than a cut-off.")
    gone_strings = ("Facebook", "Vietnam Rare Earth Reserves", "Heavy Rare Earths Are the Real Bottleneck", "Maria covers")
    for gone in gone_strings:
        assert gone not in article.body
    _assert_clean(article)


def test_citation_gives_date_when_no_date_line(tmp_path: Path) -> None:
    body = "Body text that runs long enough to be a paragraph. " * 3
    text = f"A Title\n\n{body}\n\nCitation: A Writer, Outlet, Jan 5, 2024."
    article = _one(_write(tmp_path, "b.txt", text))
    assert article.published_at == date(2024, 1, 5)
    assert "Citation" not in article.body and article.source is None


def test_thai_text_survives_parsing(tmp_path: Path) -> None:
    text = "Thai Note\n\nภาษาไทย สวัสดีครับ กรกฎาคม รก — the U.S.โ€“Thai talks, โ€œfineโ€\x9d.\n"
    article = _one(_write(tmp_path, "thai.txt", text))
    assert article.body == "ภาษาไทย สวัสดีครับ กรกฎาคม รก — the U.S.–Thai talks, “fine”."


def test_cp1252_and_bom_decoding(tmp_path: Path) -> None:
    legacy = _one(_write(tmp_path, "old.txt", b"Old Title\n\nCaf\xe9 owners \x93agreed\x94 on the plan."))
    assert legacy.body == "Café owners “agreed” on the plan."
    bom = _one(_write(tmp_path, "bom.txt", b"\xef\xbb\xbfBOM Title\n\nBody."))
    assert bom.title == "BOM Title"
    utf16 = _one(_write(tmp_path, "u16.txt", "Wide Title\n\nBody text.".encode("utf-16")))
    assert (utf16.title, utf16.body) == ("Wide Title", "Body text.")


# --- HTML ----------------------------------------------------------------------


def test_html_page_with_meta_tags() -> None:
    article = _one(FIXTURES / "brief.html")
    assert article.title == "Lynas Expands Heavy Rare Earth Separation in Malaysia"
    assert article.published_at == date(2025, 8, 14)
    assert article.url == "https://rareearthexchanges.com/news/lynas-heavy-separation/"
    assert article.source == "Rare Earth Exchanges"
    assert article.author == "Jane Doe"
    assert article.body.startswith("Lynas Rare Earths said on Thursday")
    assert "REEx View:" in article.body
    assert article.body.count("\n\n") == 2  # one paragraph per <p>
    _assert_clean(article)


def test_html_without_article_text_is_rejected(tmp_path: Path) -> None:
    page = "<html><head><title>x</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
    path = _write(tmp_path, "nav.html", page)
    with pytest.raises(RejectedInput, match="HTML page has no article text"):
        parse_file(path)


# --- JSON / JSONL ----------------------------------------------------------------


def test_json_single_object(tmp_path: Path) -> None:
    record = {"id": 42, "title": "Oxide Prices Rise", "body": "NdPr oxide rose 3% this week.", "date": "Sep 23, 2025",
              "url": "https://x.test/a", "source": "Example Wire", "author": ["A. One", "B. Two"]}
    article = _one(_write(tmp_path, "one.json", json.dumps(record)))
    assert article.id == "42"
    assert (article.title, article.body) == ("Oxide Prices Rise", "NdPr oxide rose 3% this week.")
    assert article.published_at == date(2025, 9, 23)
    assert (article.url, article.source, article.author) == ("https://x.test/a", "Example Wire", "A. One, B. Two")


def test_json_list_field_variants_and_bad_record(tmp_path: Path) -> None:
    long_sentence = "The ministry said that " + "rare earth " * 20 + "exports will need licences. Second sentence."
    records = [
        {"title": "T1", "text": "Body one.", "published_at": "2025-09-23T08:15:00Z"},
        {"title": "T2", "content": "Body two.", "published_at": "2025-09-23"},
        {"title": "No text", "body": "   "},
        {"content": long_sentence, "date": "23 September 2025"},
        "not an object",
    ]
    parsed = parse_file(_write(tmp_path, "many.json", json.dumps(records)))
    assert [a.body for a in parsed.articles] == ["Body one.", "Body two.", long_sentence]
    assert all(a.published_at == date(2025, 9, 23) for a in parsed.articles)
    derived = parsed.articles[2].title
    assert derived.endswith("…") and len(derived) <= 80 and derived.startswith("The ministry said")
    assert [r.reason for r in parsed.rejected] == [
        "record 3: record has no text in body/text/content",
        "record 5: record is a JSON str, not an object; wrap it in {}",
    ]


def test_jsonl_bad_lines_rejected_good_lines_kept(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "title": "A", "body": "Alpha body."}),
        "",
        '{"id": "b", "title": "B" "body": "x"}',
        json.dumps({"id": "c", "title": "C"}),
        "[1, 2]",
        json.dumps({"id": "d", "body": "Delta body. More."}),
    ]
    parsed = parse_file(_write(tmp_path, "recs.jsonl", "\n".join(lines) + "\n"))
    assert [a.id for a in parsed.articles] == ["a", "d"]
    assert parsed.articles[1].title == "Delta body."
    assert [r.line for r in parsed.rejected] == [3, 4, 5]
    assert parsed.rejected[0].reason == "invalid JSON (Expecting ',' delimiter: col 26); fix or remove the line"
    assert parsed.rejected[1].reason == "record has no text in body/text/content"
    assert parsed.rejected[2].reason.startswith("record is a JSON list")
    assert all(r.path == str(tmp_path / "recs.jsonl") for r in parsed.rejected)


def test_invalid_json_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RejectedInput) as err:
        parse_file(_write(tmp_path, "bad.json", '{"a": 1,\n  "b": }'))
    assert err.value.reason == "invalid JSON (Expecting value: line 2 col 8); fix the file"


@pytest.mark.skipif(not WIKINEWS.exists(), reason="needs ../shared/corpora/wikinews (or BRIEFBOT_SHARED_DIR)")
def test_wikinews_corpus_parses_without_rejections() -> None:
    parsed = parse_file(WIKINEWS)
    assert len(parsed.articles) == 293 and parsed.rejected == ()
    first = parsed.articles[0]
    assert first.id == "wn-e8d671d30811" and first.published_at == date(2019, 1, 4)
    assert first.source == "Wikinews (en.wikinews.org)" and first.author is None
    assert len({a.id for a in parsed.articles}) == 293


# --- the same article in two formats ---------------------------------------------


def test_same_article_as_txt_and_json_gets_same_key(tmp_path: Path) -> None:
    body = "Lynas produced dysprosium oxide in Malaysia.\n\nTerbium follows later this year."
    txt = _one(_write(tmp_path, "a.txt", f"Lynas Makes Dysprosium\n\nSep 1, 2025\n\n{body}\n\nLeave a Reply\n"))
    squashed = " ".join(body.split())
    js = _one(_write(tmp_path, "a.json", json.dumps({"title": "Lynas makes dysprosium", "body": squashed})))
    assert content_key(txt.body) == content_key(js.body)
    assert txt.id == js.id


# --- whole-file rejections ---------------------------------------------------------


def test_empty_files_rejected(tmp_path: Path) -> None:
    for name, content in (("e.txt", b""), ("w.md", b"  \n\n\t"), ("e.jsonl", b"\n")):
        with pytest.raises(RejectedInput, match="^.*: empty file$") as err:
            parse_file(_write(tmp_path, name, content))
        assert err.value.reason == "empty file"


def test_binary_rejected(tmp_path: Path) -> None:
    for name, content in (("n.txt", b"abc\x00\x00\x00\x00def" * 10), ("p.html", b"\x89PNG\r\n\x1a\nrest")):
        with pytest.raises(RejectedInput) as err:
            parse_file(_write(tmp_path, name, content))
        assert err.value.reason == "binary file (not text); convert it to .txt/.html/.json/.pdf"


def test_oversized_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "MAX_FILE_BYTES", 2 * 1024 * 1024)
    path = _write(tmp_path, "big.txt", b"word " * (700 * 1024))
    with pytest.raises(RejectedInput) as err:
        parse_file(path)
    assert err.value.reason == "file is 3.4 MB, over the 2 MB limit; split it"


def test_unknown_extension_rejected(tmp_path: Path) -> None:
    with pytest.raises(RejectedInput) as err:
        parse_file(_write(tmp_path, "doc.docx", b"PK\x03\x04"))
    assert err.value.reason == "unknown extension '.docx'; supported: .htm .html .json .jsonl .md .pdf .txt"
    assert err.value.path == str(tmp_path / "doc.docx")


def test_undecodable_rejected(tmp_path: Path) -> None:
    with pytest.raises(RejectedInput, match="not valid UTF-8 and not a known legacy encoding"):
        parse_file(_write(tmp_path, "x.txt", b"Title\n\nbad \x81\x8d bytes \xff\xfe"[:-2]))


def test_title_only_brief_rejected(tmp_path: Path) -> None:
    with pytest.raises(RejectedInput, match="no body text"):
        parse_file(_write(tmp_path, "t.txt", "Just A Title\n\nLeave a Reply\n"))


# --- helpers -------------------------------------------------------------------------


def test_content_key() -> None:
    assert content_key("  Ｆｕｌｌ-width   “Quotes”,\nand NEW\tlines! ") == "full width quotes and new lines"


@pytest.mark.parametrize(
    "text",
    ["Sep 23, 2025", "Sept. 23, 2025", "September 23, 2025", "2025-09-23", "23 September 2025", "2025-09-23T10:00:00Z"],
)
def test_parse_date_formats(text: str) -> None:
    assert parse_date(text) == date(2025, 9, 23)


def test_parse_date_rejects_non_dates() -> None:
    assert parse_date("Highlights") is None
    assert parse_date("Feb 30, 2025") is None
    assert parse_date("Citation: X, Y, May 2, 2024.", whole=False) == date(2024, 5, 2)


def test_derive_title() -> None:
    assert derive_title("Short first sentence. Then more.") == "Short first sentence."
    long = derive_title("word " * 40)
    assert long.endswith("…") and len(long) <= 80 and not long[:-1].endswith(" ")


def test_body_bullets_unified_numbers_kept(tmp_path: Path) -> None:
    text = (
        "List Brief\n\nHighlights\n\n1. First point\n2) Second point\n\n"
        "Intro line.\n\n- dash item\n* star item\n1. numbered item"
    )
    article = _one(_write(tmp_path, "l.md", text))
    assert article.highlights == ("First point", "Second point")
    assert article.body == "Intro line.\n\n• dash item\n• star item\n1. numbered item"


def test_untitled_record_takes_its_title_from_the_first_sentence_not_the_dateline_or_promo(tmp_path: Path) -> None:
    body = ("New York CNN Business —\n\nThis story is part of CNN Business’ Nightcap newsletter. To get it in your "
            "inbox, sign up for free, here.\n\nEuropean regulators want one charger. The rule starts in 2024.")
    record = {"id": "x", "title": "", "published_at": "2022-06-12", "body": body}
    (article,) = parse_file(_write(tmp_path, "recs.jsonl", json.dumps(record) + "\n")).articles
    assert article.title == "European regulators want one charger."
    assert article.body == "European regulators want one charger. The rule starts in 2024."

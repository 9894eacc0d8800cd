"""bot.render: escaping, citations and splitting, every message checked with Telegram's HTML rules."""

from __future__ import annotations

import random
from datetime import date

import pytest

from bot.render import (MAX_MESSAGE, citation_line, esc, format_uptime, link, render_answer, render_context,
                        render_corpus, render_inline, render_latest, render_sources, render_stats, short_title,
                        split_html, to_plain, utf16_len)
from index.engine import CorpusStats
from index.records import Answer, Article, Chunk, Citation, Hit, Passage
from tests.fakebotapi import parse_telegram_html

HOSTILE = "<script>alert('x')</script> AT&T <b>unclosed <i>tags & &amp; &nbsp; 🚀👩‍👩‍👧 \x00 \ud83d"


def citation(title: str = "Rare earths & <b>tariffs</b>", url: str | None = "https://example.com/a?x=1&y=<2>",
             path: str | None = "/data/articles/brief.txt", published: date | None = date(2025, 9, 23)) -> Citation:
    return Citation("a1", title, "Rare Earth Exchanges <RE>", "A. Author & co", published, url, path)


def passage(text: str, highlight: str, rank: int = 1, cite: Citation | None = None, chunk_id: int = 1) -> Passage:
    cite = cite or citation()
    hit = Hit(chunk_id, Chunk(cite.article_id, 0, text), cite, 1.0, 1.0, 1.0)
    return Passage(rank, hit, highlight)


def valid(messages: list[str]) -> list[str]:
    """Every message parses as Telegram HTML and fits; returns the visible texts."""
    assert messages
    visible = []
    for message in messages:
        shown = parse_telegram_html(message)
        assert shown.strip()
        assert utf16_len(message) <= MAX_MESSAGE
        visible.append(shown)
    return visible


def test_esc_neutralises_markup_and_bad_characters() -> None:
    shown = parse_telegram_html(esc(HOSTILE))
    assert "<script>" in shown and "AT&T" in shown and "&amp;" in shown and "🚀" in shown
    assert "\x00" not in shown and "\ud83d" not in shown


def test_links_only_for_http_urls() -> None:
    assert link("t", "https://x.org/a b") == "t"
    assert link("t", "javascript:alert(1)") == "t"
    assert link("t", "ftp://x.org") == "t"
    assert link("a<b", 'https://x.org/?q="1"&r=2') == '<a href="https://x.org/?q=&quot;1&quot;&amp;r=2">a&lt;b</a>'


def test_citation_line_has_title_publisher_date_and_link_or_file() -> None:
    line = citation_line(2, citation())
    shown = parse_telegram_html(line)
    assert shown == "[2] Rare earths & <b>tariffs</b> — Rare Earth Exchanges <RE>, 2025-09-23"
    assert 'href="https://example.com/a?x=1&amp;y=&lt;2&gt;"' in line
    local = parse_telegram_html(citation_line(1, citation(url=None, published=None)))
    assert local == "[1] Rare earths & <b>tariffs</b> — Rare Earth Exchanges <RE> · brief.txt"
    full = parse_telegram_html(citation_line(1, citation(), full=True))
    assert "by A. Author & co" in full and "https://example.com/a?x=1&y=<2>" in full


def test_answer_bolds_key_sentence_and_numbers_citations() -> None:
    text = "First sentence <here>. The key & sentence.\nNext paragraph line."
    answer = Answer("q <x>", "q <x>", (passage(text, "The key & sentence."),), citations=(citation(),))
    [message] = render_answer(answer)
    assert "<b>The key &amp; sentence.</b>" in message
    shown = valid([message])[0]
    assert shown.startswith("1. First sentence <here>. The key & sentence.\nNext paragraph line. [1]")
    assert "Sources\n[1] Rare earths" in shown
    assert "Searching for" not in shown


def test_answer_shows_resolved_query_for_follow_ups_and_honest_notice() -> None:
    answer = Answer("and terbium?", "What happened with <terbium>?", (passage("Text.", "Text."),), citations=(citation(),))
    assert valid(render_answer(answer))[0].startswith("Searching for: What happened with <terbium>?")
    nothing = Answer("x", "x", notice="Nothing in the briefs answers this <closely>.")
    assert valid(render_answer(nothing)) == ["Nothing in the briefs answers this <closely>."]


def test_highlight_missing_from_text_is_not_bolded() -> None:
    answer = Answer("q", "q", (passage("Plain <text>.", "not there"),), citations=(citation(),))
    message = render_answer(answer)[0]
    assert message.startswith("1. Plain &lt;text&gt;. [1]")
    valid([message])


@pytest.mark.parametrize("seed", range(6))
def test_split_never_breaks_tags_and_keeps_every_word(seed: int) -> None:
    rng = random.Random(seed)
    words = ["alpha", "beta&gamma", "<delta>", "émoji🚀", "x" * rng.randint(1, 30), "sentence.", "\n", "\n\n"]
    pieces = []
    for _ in range(4000):
        word = esc(rng.choice(words))
        roll = rng.random()
        pieces.append(f"<b>{word}</b>" if roll < 0.1 else
                      f'<a href="https://e.org/?a=1&amp;b=2">{word}</a>' if roll < 0.15 else word)
    markup = " ".join(pieces)
    limit = rng.choice([200, 1000, MAX_MESSAGE])
    parts = split_html(markup, limit)
    assert len(parts) > 1
    for part in parts:
        assert utf16_len(part) <= limit
        parse_telegram_html(part)
    assert " ".join(to_plain(p) for p in parts).split() == to_plain(markup).split()


def test_split_prefers_paragraphs() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 150 for i in range(12)]
    parts = split_html("\n\n".join(paragraphs), MAX_MESSAGE)
    for part in parts:
        assert part.startswith("Paragraph") and part.rstrip().endswith("word")


def test_split_inside_a_long_bold_run_reopens_the_tag() -> None:
    markup = "<b>" + "bold words here. " * 300 + "</b> tail"
    parts = split_html(markup)
    assert len(parts) == 2
    assert parts[0].endswith("</b>") and parts[1].startswith("<b>")
    valid(parts)


def test_long_answer_is_split_below_the_limit_with_all_passages() -> None:
    long_text = "\n".join(f"Line {i}: " + "rare earth supply & demand <tension> 🌍 " * 12 for i in range(30))
    passages = tuple(passage(long_text, f"Line {i}: rare earth", rank=i + 1, chunk_id=i) for i in range(3))
    messages = render_answer(Answer("q", "q", passages, citations=(citation(),)))
    assert len(messages) >= 3
    shown = "\n".join(valid(messages))
    assert all(f"\n{i}. " in f"\n{shown}" for i in (1, 2, 3)) and "Sources" in messages[-1]


def test_sources_context_latest_corpus_stats_inline_are_valid() -> None:
    cites = [citation(), citation(title="Second <brief>", url="not a url")]
    assert "Second <brief>" in valid(render_sources(cites))[0]
    assert valid(render_sources([])) == ["No sources for this answer."]
    chunks = [Chunk("a1", 0, "Before <p>."), Chunk("a1", 1, "Cited & bold."), Chunk("a1", 2, "After.")]
    context = render_context(1, cites[0], chunks, focus=1)
    assert "<b>Cited &amp; bold.</b>" in context[0]
    assert "Before <p>." in valid(context)[0]
    assert "no longer in the index" in valid(render_context(2, cites[1], []))[0]
    article = Article("a1", "Title <t>", "body", published_at=date(2025, 9, 1), source="Pub & Co",
                      url="https://e.org/x")
    undated = Article("a2", "Other", "body")
    shown = valid(render_latest([article, undated]))[0]
    assert "Title <t> — 2025-09-01, Pub & Co" in shown and "Other — undated" in shown
    stats = CorpusStats(2, 10, (("Pub <x>", 2),), date(2025, 1, 1), date(2025, 9, 1), "all-MiniLM-L6-v2")
    assert "2 brief(s), 10 passage(s), from 2025-01-01 to 2025-09-01" in valid(render_corpus(stats))[0]
    assert "Uptime: 1h 1m 1s" in valid(render_stats(stats, 3661, [("Stored <answers>", 3)]))[0]
    assert "Index: none yet" in valid(render_stats(None, 5))[0]
    inline = render_inline(passage("Long " * 2000, "Long"), cites[0])
    valid([inline])
    assert inline.rstrip().endswith("2025-09-23")


def test_helpers() -> None:
    assert short_title("A very long title about rare earth export licences", 20) == "A very long title…"
    assert short_title("Short", 20) == "Short"
    assert format_uptime(59) == "59s" and format_uptime(90061) == "1d 1h 1m 1s"
    assert to_plain("<b>a &amp; b</b>") == "a & b"

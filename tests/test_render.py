"""bot.chat.render: escaping, citations and splitting, every message checked with Telegram's HTML rules."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from bot.chat.render import (QUOTE, VISIBLE_WORDS, citation_line, collapsed_text, collapsed_words, format_uptime,
                             inline_description, link, render_answer, render_context, render_corpus, render_inline,
                             render_latest, render_sources, render_stats, split_html)
from bot.messages import MAX_MESSAGE, esc, short_title, to_plain, utf16_len
from index.engine import CorpusStats, Engine
from index.records import Answer, Article, BriefSentence, Chunk, Citation, Hit, Passage
from tests.fakebotapi import TelegramHtmlError, parse_telegram_html, parse_telegram_html_entities

HOSTILE = "<script>alert('x')</script> AT&T <b>unclosed <i>tags & &amp; &nbsp; 🚀👩‍👩‍👧 \x00 \ud83d"


def citation(title: str = "Rare earths & <b>tariffs</b>", url: str | None = "https://example.com/a?x=1&y=<2>",
             path: str | None = "/data/articles/brief.txt", published: date | None = date(2025, 9, 23)) -> Citation:
    return Citation("a1", title, "Rare Earth Exchanges <RE>", "A. Author & co", published, url, path)


def passage(text: str, highlight: str, rank: int = 1, cite: Citation | None = None, chunk_id: int = 1) -> Passage:
    cite = cite or citation()
    hit = Hit(chunk_id, Chunk(cite.article_id, 0, text), cite, 1.0, 1.0, 1.0)
    return Passage(rank, hit, highlight)


def valid(messages: list[str]) -> list[str]:
    """Every message parses as Telegram HTML, fits, and keeps every quote; returns the visible texts."""
    assert messages
    visible = []
    for message in messages:
        shown, entities = parse_telegram_html_entities(message)
        assert shown.strip()
        assert utf16_len(message) <= MAX_MESSAGE
        # Telegram silently drops a quote nested in another: every quote sent must survive as an entity.
        assert len(quotes(shown, entities)) == message.count("<blockquote")
        visible.append(shown)
    return visible


def quotes(shown: str, entities: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(start, end) character spans of the expandable quotes in a parsed message (offsets are UTF-16)."""
    units = shown.encode("utf-16-le")
    spans = []
    for entity in entities:
        if entity["type"] == "expandable_blockquote":
            start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
            begin = len(units[:start].decode("utf-16-le"))
            spans.append((begin, begin + len(units[start:end].decode("utf-16-le"))))
    return spans


def visible_words(messages: list[str]) -> int:
    """What a reader sees before expanding anything: all text outside quotes, the first lines of each quote."""
    total = 0
    for message in messages:
        shown, entities = parse_telegram_html_entities(message)
        position = 0
        for start, end in quotes(shown, entities):
            total += len(shown[position:start].split()) + collapsed_words(shown[start:end])
            position = end
        total += len(shown[position:].split())
    return total


def briefed(answer: Answer, *sentences: tuple[str, int]) -> Answer:
    """The answer with a brief of (text, passage rank) sentences, as the engine fills it."""
    return dataclasses.replace(answer, brief=tuple(BriefSentence(text, rank) for text, rank in sentences))


# Long enough that a collapsed quote shows none of the key sentence that follows it.
LEAD_IN = ("Officials from both delegations spent the better part of two long days in closed rooms discussing the "
           "terms, the timetable and the wording of a statement that neither side was ready to publish.")


def three_passages() -> Answer:
    """Passages from two briefs: ranks 1 and 3 cite [1], rank 2 cites [2]."""
    second = Citation("a2", "U.S.-China Rare Earth Dispute: Meetings Without Movement", "REEx", None,
                      date(2025, 9, 23), "https://e.org/2", None)
    passages = (passage(f"Geneva talks. {LEAD_IN} China would expedite export licences & permits. Then nothing.",
                        "China would expedite export licences & permits.", 1, chunk_id=1),
                passage(f"Meetings went on. {LEAD_IN} Shipments of <magnets> stayed stalled.", "Shipments of <magnets> stayed stalled.",
                        2, second, chunk_id=2),
                passage(f"Prices rose. {LEAD_IN} Terbium is up 20%.", "Terbium is up 20%.", 3, chunk_id=3))
    return Answer("What happened with Geneva?", "What happened with Geneva?", passages,
                  citations=(citation(), second))


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
    latest = Answer("What's the latest?", "What's the", (passage("Text.", "Text."),), citations=(citation(),))
    assert "Searching for" not in valid(render_answer(latest))[0]  # time words dropped: no rewrite to show
    nothing = Answer("x", "x", notice="Nothing in the briefs answers this <closely>.")
    assert valid(render_answer(nothing)) == ["Nothing in the briefs answers this <closely>."]


def test_a_refusal_offers_the_closest_briefs_by_title_not_as_a_citation() -> None:
    near = (passage("a", "a").hit, passage("b", "b", cite=citation(title="Puerto Rico governor <resigns>", url=None,
                                                                  published=None)).hit)
    refused = Answer("x", "x", notice="Nothing in the briefs answers this closely enough.", closest=near)
    [shown] = valid(render_answer(refused))
    assert shown.startswith("Nothing in the briefs answers this closely enough.\n\nClosest briefs (none answers it as asked)\n")
    assert "[1] Rare earths & <b>tariffs</b> — Rare Earth Exchanges <RE>, 2025-09-23" in shown
    assert "[2] Puerto Rico governor <resigns> — Rare Earth Exchanges <RE>" in shown


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


def test_answer_opens_with_the_cited_brief_then_expandable_quotes_then_compact_sources() -> None:
    answer = briefed(three_passages(), ("China would expedite export licences & permits.", 1),
                     ("Shipments of <magnets> stayed stalled.", 2))
    [message] = render_answer(answer)
    assert message.startswith("China would expedite export licences &amp; permits. [1] "
                              "Shipments of &lt;magnets&gt; stayed stalled. [2]\n\n" + QUOTE)
    assert (f"{QUOTE}2. Meetings went on. {LEAD_IN} <b>Shipments of &lt;magnets&gt; stayed stalled.</b> [2]</blockquote>"
            in message)
    [shown] = valid([message])
    _, entities = parse_telegram_html_entities(message)
    spans = quotes(shown, entities)
    assert [shown[a:b][:2] for a, b in spans] == ["1.", "2.", "3."]
    bold = [(e["offset"], e["length"]) for e in entities if e["type"] == "bold"]  # ASCII: UTF-16 offsets = chars
    assert [shown[a:a + n] for a, n in bold] == [answer.passages[i].highlight for i in range(3)] + ["Sources"]
    assert all(a <= start < b for (start, _), (a, b) in zip(bold, spans))
    assert shown.endswith("Sources\n[1] Rare earths & <b>tariffs</b> — Rare Earth Exchanges <RE>, 2025-09-23\n"
                          "[2] U.S.-China Rare Earth Dispute… — REEx, 2025-09-23")
    assert "brief.txt" not in shown and "A. Author" not in shown  # the full list is behind the Sources button


def test_brief_follows_the_engine_order_and_leaves_out_sentences_without_their_passage() -> None:
    answer = briefed(three_passages(), ("Terbium is up 20%.", 3), ("A claim from a passage not shown.", 7),
                     ("Shipments of <magnets> stayed stalled.", 2))
    shown = valid(render_answer(answer))[0]
    assert shown.startswith("Terbium is up 20%. [1] Shipments of <magnets> stayed stalled. [2]\n\n1. ")
    assert "not shown" not in shown


def test_the_brief_skips_what_the_collapsed_quotes_already_show() -> None:
    shown_below = "The Geneva accord was widely seen as a step."
    answer = briefed(three_passages(), (shown_below, 1), ("Terbium is up 20%.", 3))
    answer = dataclasses.replace(answer, passages=(passage(f"{shown_below} {LEAD_IN}", shown_below, 1, chunk_id=1),
                                                   *answer.passages[1:]))
    assert valid(render_answer(answer))[0].startswith("Terbium is up 20%. [1]\n\n1. The Geneva accord")
    only = briefed(answer, (shown_below, 1))  # a brief that is all on show still opens the reply
    assert valid(render_answer(only))[0].startswith(f"{shown_below} [1]\n\n1. {shown_below}")


def test_without_a_brief_the_passages_keep_their_layout() -> None:
    shown = valid(render_answer(three_passages()))[0]
    assert shown.startswith("1. Geneva talks.") and "\n\n2. Meetings" in shown
    assert "<blockquote" not in render_answer(three_passages())[0]


# The brief the engine gives "What happened with Geneva?" over the sample briefs with the real model:
# 4 sentences, 80 words (its cap), from the passages the hash-embedder engine also returns.
GENEVA_BRIEF = (
    "The Geneva accord was widely seen as a step toward stabilizing trade tensions.",
    "Sources familiar with the Geneva meeting say the agreement lacked clear benchmarks, timelines, or penalties.",
    "China’s strategic delay in rare earth export licenses threatens the Geneva trade agreement and exposes the "
    "global resource power struggle.",
    "According to The Wall Street Journal, Beijing’s delay in processing licenses for critical mineral exports has "
    "fueled accusations from Washington that the agreement struck earlier this month in Geneva is effectively dead.",
)


def test_a_realistic_three_passage_answer_shows_at_most_120_words_before_expanding(
        hash_engine_factory: Callable[..., Engine]) -> None:
    answer, _ = hash_engine_factory().ask("What happened with Geneva?")
    ranks = [next(p.rank for p in answer.passages if s in p.hit.chunk.text) for s in GENEVA_BRIEF]
    messages = render_answer(briefed(answer, *zip(GENEVA_BRIEF, ranks)))
    valid(messages)
    assert len(answer.passages) == 3 and len(messages) == 1
    assert 90 <= visible_words(messages) <= VISIBLE_WORDS
    brief, *quoted = to_plain(messages[0]).split("\n\n")
    previews = " ".join(collapsed_text(q) for q in quoted[:3])
    unseen = [s for s in GENEVA_BRIEF if s not in previews]  # the collapsed quotes show the others already
    shown = [s for s in GENEVA_BRIEF if s in brief]
    assert 1 <= len(unseen) < len(GENEVA_BRIEF) and shown == unseen[: len(shown)] and shown  # whole, the best first
    # The sentences left out are what the budget could not hold; a brief that fits is shown whole.
    left_out = unseen[len(shown):]
    assert not left_out or visible_words(messages) + len(left_out[0].split()) + 1 > VISIBLE_WORDS
    short = render_answer(briefed(answer, *zip(GENEVA_BRIEF[:1], ranks)))[0]
    assert short.startswith(f"{GENEVA_BRIEF[0]} [1]\n\n{QUOTE}")


def test_collapsed_quote_shows_its_first_three_lines() -> None:
    prose = " ".join(["word"] * 100)
    assert 20 <= collapsed_words(prose) <= 30
    assert collapsed_words("Short Heading\nline two\nline three\n" + prose) == 6


def test_a_quote_that_does_not_fit_moves_whole_to_the_next_message() -> None:
    words = ["rare", "earth", "supply", "&", "<demand>", "🌍", "licences."]
    texts = [" ".join(words[(i + j) % len(words)] for j in range(240)) + f" Key {i}." for i in range(3)]
    passages = tuple(passage(text, f"Key {i}.", rank=i + 1, chunk_id=i) for i, text in enumerate(texts))
    answer = briefed(Answer("q", "q", passages, citations=(citation(),)), ("Key 0.", 1))
    messages = render_answer(answer)
    shown = valid(messages)
    assert len(messages) == 2 and shown[0].startswith("Key 0. [1]") and shown[1].startswith("3. ")
    for i, text in enumerate(texts):
        assert sum(f"{i + 1}. {text} [1]" in part for part in shown) == 1  # whole, in exactly one message
    assert all(m.count(QUOTE) == m.count("</blockquote>") for m in messages)


def test_a_quote_longer_than_a_message_is_split_with_the_quote_closed_and_reopened() -> None:
    text = " ".join(f"Sentence {i} on rare earth & <magnet> supply 🧲." for i in range(300))
    key = "Sentence 150 on rare earth & <magnet> supply 🧲."
    answer = briefed(Answer("q", "q", (passage(text, key),), citations=(citation(),)), (key, 1))
    messages = render_answer(answer)
    shown = valid(messages)
    assert len(messages) >= 4 and shown[0] == f"{key} [1]"  # the brief; the quote could never join it
    assert all(m.startswith(QUOTE) for m in messages[1:]) and all(m.endswith("</blockquote>") for m in messages[1:-1])
    sources = parse_telegram_html(f"<b>Sources</b>\n{citation_line(1, citation())}").replace(" · brief.txt", "")
    assert " ".join(shown).split() == [*key.split(), "[1]", "1.", *text.split(), "[1]", *sources.split()]
    assert sum(m.count("<b>") - m.count("<b>Sources</b>") for m in messages) == 1  # the key sentence, not cut


def test_split_html_moves_quotes_whole_and_cuts_one_only_when_it_alone_is_too_long() -> None:
    quote_a = f"{QUOTE}{'alpha ' * 300}</blockquote>"
    quote_b = f"{QUOTE}{'beta ' * 500}</blockquote>"
    parts = split_html(f"Intro.\n\n{quote_a}\n\n{quote_b}\n\nTail.", 3000)
    assert parts == [f"Intro.\n\n{quote_a}", f"{quote_b}\n\nTail."]
    assert split_html(f"Intro.\n\n{quote_b}", 2000)[0] == "Intro."  # not a cut inside the quote
    long = split_html(f"{QUOTE}<b>{'gamma ' * 1000}</b></blockquote> tail", 2000)
    assert len(long) == 4 and all(p.startswith(f"{QUOTE}<b>") for p in long[1:])
    assert all(p.endswith("</b></blockquote>") for p in long[:-1])
    valid(long)


def test_plain_text_fallback_of_a_briefed_answer_reads_well() -> None:
    answer = briefed(three_passages(), ("China would expedite export licences & permits.", 1))
    plain = to_plain(render_answer(answer)[0])
    assert plain.startswith("China would expedite export licences & permits. [1]\n\n1. Geneva talks.")
    assert f"\n\n2. Meetings went on. {LEAD_IN} Shipments of <magnets> stayed stalled. [2]\n\n3. " in plain
    assert "blockquote" not in plain and "&amp;" not in plain and plain.endswith("REEx, 2025-09-23")


def test_inline_results_are_described_by_the_brief() -> None:
    answer = three_passages()
    assert inline_description(answer, answer.passages[1]) == "Shipments of <magnets> stayed stalled."
    described = briefed(answer, ("China would expedite export licences & permits. " * 5, 1), ("Other.", 2))
    for p in described.passages:
        assert inline_description(described, p) == short_title(described.brief[0].text, 120)
    assert len(inline_description(described, described.passages[0])) <= 120


@pytest.mark.parametrize(("markup", "detail"), [
    ("<blockquote expandable><b>x</blockquote></b>", 'Unmatched end tag at byte offset 27, expected "</b>", '
                                                    'found "</blockquote>"'),
    ("<blockquote expandable>open", 'Can\'t find end tag corresponding to start tag "blockquote"'),
    ("<b expandable>x</b>", 'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0'),
])
def test_fake_telegram_rejects_malformed_quotes(markup: str, detail: str) -> None:
    with pytest.raises(TelegramHtmlError) as info:
        parse_telegram_html(markup)
    assert str(info.value) == detail


def test_fake_telegram_reads_quotes_like_telegram() -> None:
    text, entities = parse_telegram_html_entities("a<blockquote expandable>q <b>k</b></blockquote><blockquote>p</blockquote>")
    assert text == "aq kp"
    assert entities == [{"offset": 1, "length": 3, "type": "expandable_blockquote"},
                        {"offset": 3, "length": 1, "type": "bold"}, {"offset": 4, "length": 1, "type": "blockquote"}]
    # Quotes cannot be nested: Telegram keeps the outer one and drops the inner (tdlib fix_entities).
    _, nested = parse_telegram_html_entities("<blockquote expandable>a<blockquote>b</blockquote></blockquote>")
    assert nested == [{"offset": 0, "length": 2, "type": "expandable_blockquote"}]


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


def test_inline_message_with_a_monstrous_citation_still_fits() -> None:
    giant = citation(url="https://example.com/" + "a&b=<c>" * 1500)  # its link alone is ~25,000 characters
    inline = render_inline(passage("Terbium output rose. " * 300, "Terbium output rose."), giant)
    assert utf16_len(inline) <= MAX_MESSAGE and valid([inline])[0].startswith("Terbium output rose.")
    assert split_html("<b>words</b> and more", -5) == ["<b>words</b> and more"]  # no room at all: no endless loop


def test_helpers() -> None:
    assert short_title("A very long title about rare earth export licences", 20) == "A very long title…"
    assert short_title("Short", 20) == "Short"
    assert format_uptime(59) == "59s" and format_uptime(90061) == "1d 1h 1m 1s"
    assert to_plain("<b>a &amp; b</b>") == "a & b"

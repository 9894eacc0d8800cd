"""Telegram HTML for answers, citations and lists: pure functions, every message ≤ 4,096 characters.

Every piece of article or user text goes through `esc` (HTML-escaped, invalid characters dropped);
the only tags produced are <b>, <i>, <a href>, <code> and <blockquote expandable> (Bot API 7.3+).
Long texts are split by `split_html` at paragraph boundaries (then lines, sentences, spaces), never
inside a tag or an entity and never inside a quote unless the quote alone is too long; tags open at
a cut are closed at the end of one message and reopened at the start of the next.

An answer opens with its brief, then shows each passage as a collapsed quote, then a compact sources
line: before anything is expanded it shows at most `VISIBLE_WORDS` words (see `collapsed_words`).
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import PurePath
from urllib.parse import urlsplit

# Shared with alerts/ and sources/ (bot/messages.py); re-exported here, where the answers use them.
from bot.messages import MAX_MESSAGE, esc, short_title, to_plain, utf16_len
from index.answer import CLOSEST_HEADING
from index.engine import CorpusStats
from index.records import Answer, Article, BriefSentence, Chunk, Citation, Passage, Timeline

__all__ = [
    "VISIBLE_WORDS", "QUOTE", "link", "split_html", "citation_line", "collapsed_text", "collapsed_words",
    "render_answer", "render_sources", "render_context", "render_latest",
    "render_corpus", "render_stats", "render_inline", "inline_description", "format_uptime", "render_timeline",
    "timeline_html", "long_date",
]

# Issue 11: before anything is expanded, a three-passage answer shows at most about this many words.
VISIBLE_WORDS = 120
QUOTE = "<blockquote expandable>"
# Telegram shows a collapsed expandable quote as its first three lines; a chat bubble line holds about
# 50 characters, so three lines of prose are ~25 words (a short heading line shows fewer).
_COLLAPSED_LINES = 3
_LINE_CHARS = 50
_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[\s\S]")
_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>", re.I)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_RESOLVED_SHOWN = 200


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link without spaces, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or re.search(r"\s", url.strip()):
        return None
    return url.strip()


def link(text: str, url: str | None) -> str:
    """<a href> for http(s) URLs (escaped), plain escaped text otherwise."""
    target = safe_url(url)
    return f'<a href="{esc(target)}">{esc(text)}</a>' if target else esc(text)


# --------------------------------------------------------------------------- splitting


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` UTF-16 units, never inside a tag."""
    parts: list[str] = []
    rest = text.strip()
    while rest and utf16_len(rest) > limit:
        cut, opened = _cut_point(rest, limit)
        head = rest[:cut].rstrip() + "".join(f"</{name}>" for name, _ in reversed(opened))
        rest = "".join(tag for _, tag in opened) + rest[cut:].lstrip()
        if to_plain(head).strip():
            parts.append(head)
    if to_plain(rest).strip():
        parts.append(rest)
    return parts


_Cut = tuple[int, list[tuple[str, str]]]


def _cut_point(text: str, limit: int) -> _Cut:
    """Where to cut `text` (a char index between tokens) and the tags open there (name, start tag)."""
    stack: list[tuple[str, str]] = []
    outside: dict[int, _Cut] = {}
    inside: dict[int, _Cut] = {}
    size = 0
    position = 0
    has_text = False  # a cut before any text would hand the same text back: no progress
    for match in _TOKEN.finditer(text):
        token = match.group()
        closing = sum(len(name) + 3 for name, _ in stack)
        if size + closing > limit:
            break
        if has_text:
            # A quote is cut only when it alone is too long: otherwise it moves whole to the next message.
            found = inside if any(name == "blockquote" for name, _ in stack) else outside
            found[_boundary(text, position)] = (position, list(stack))
        tag = _TAG.fullmatch(token)
        if tag:
            if tag.group(1):
                if stack:
                    stack.pop()
            else:
                stack.append((tag.group(2).lower(), token))
        else:
            has_text = True
        size += utf16_len(token)
        position = match.end()
    return _preferred(outside or inside, limit) if outside or inside else (len(text), [])


def _preferred(cuts: dict[int, _Cut], limit: int) -> _Cut:
    """The strongest boundary that still fills at least a third of the message, else the furthest."""
    for kind in (4, 3, 2, 1, 0):
        if kind in cuts and cuts[kind][0] >= limit // 3:
            return cuts[kind]
    return max(cuts.values(), key=lambda cut: cut[0])


def _boundary(text: str, position: int) -> int:
    """How good a cut before text[position] is: 4 paragraph, 3 line, 2 sentence, 1 space, 0 other."""
    if text.startswith("\n\n", position - 2):
        return 4
    if text[position - 1] == "\n":
        return 3
    if text[position].isspace() and _SENTENCE_END.search(html.unescape(text[max(position - 12, 0):position])):
        return 2
    if text[position].isspace():
        return 1
    return 0


def _messages(blocks: Iterable[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Pack paragraphs (balanced HTML blocks) into as few messages as fit, splitting oversized ones."""
    messages: list[str] = []
    current = ""
    for block in (b.strip() for b in blocks):
        if not block:
            continue
        candidate = f"{current}\n\n{block}" if current else block
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        pieces = split_html(block, limit)
        messages.extend(pieces[:-1])
        current = pieces[-1] if pieces else ""
    if current:
        messages.append(current)
    return messages


# --------------------------------------------------------------------------- answers


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _details(citation: Citation, full: bool = False) -> str:
    """“Publisher, 2025-09-23” (with “by Author” when full), escaped; empty when unknown."""
    details = [citation.source, _day(citation.published_at)]
    if full and citation.author:
        details.insert(1, f"by {citation.author}")
    return ", ".join(esc(d) for d in details if d)


def citation_line(number: int, citation: Citation, *, full: bool = False) -> str:
    """“[1] Title — Publisher, 2025-09-23” with the title linked (http(s) only) or the file name."""
    line = f"[{number}] {link(citation.title, citation.url)}"
    if details := _details(citation, full):
        line += f" — {details}"
    if not safe_url(citation.url) and citation.path:
        line += f" · <code>{esc(PurePath(citation.path).name)}</code>"
    elif full and safe_url(citation.url):
        line += f"\n{esc(citation.url)}"
    return line


def _short_citation(marker: str, citation: Citation) -> str:
    """“[1] Short title… — Publisher, 2025-09-23”: the answer's compact line (the Sources button has it all)."""
    line = f"{marker} {link(short_title(citation.title), citation.url)}"
    details = _details(citation)
    return f"{line} — {details}" if details else line


def _passage_html(passage: Passage) -> str:
    """The passage text escaped, its key sentence in bold (first occurrence)."""
    text = passage.hit.chunk.text.strip()
    key = passage.highlight.strip()
    start = text.find(key) if key else -1
    if start < 0:
        return esc(text)
    return esc(text[:start]) + "<b>" + esc(key) + "</b>" + esc(text[start + len(key):])


def _normal(text: str) -> str:
    return " ".join(re.sub(r"<[^>]{0,200}>", " ", text).split()).lower()


def collapsed_text(text: str) -> str:
    """What a quote's plain text shows while it is collapsed: its first three lines."""
    lines = [line for hard in text.split("\n") for line in textwrap.wrap(hard, _LINE_CHARS) or [""]]
    return " ".join(lines[:_COLLAPSED_LINES])


def collapsed_words(text: str) -> int:
    """How many words a collapsed quote shows."""
    return len(collapsed_text(text).split())


def _visible_text(block: str) -> str:
    """The text a block shows before anything is expanded."""
    plain = to_plain(block)
    return collapsed_text(plain) if block.startswith(QUOTE) else plain


def _visible_words(block: str) -> int:
    return len(_visible_text(block).split())


def _header(answer: Answer) -> list[str]:
    """“Searching for: …” when a follow-up was rewritten, and the engine's notice."""
    blocks = []
    if answer.rewritten:
        shown = answer.resolved_query
        if len(shown) > _RESOLVED_SHOWN:
            shown = shown[: _RESOLVED_SHOWN - 1] + "…"
        blocks.append(f"<i>Searching for: {esc(shown)}</i>")
    if answer.notice:
        blocks.append(f"<i>{esc(answer.notice)}</i>")
    return blocks


def _brief_html(brief: Sequence[BriefSentence], numbers: dict[int, int], budget: int, previews: str) -> str:
    """The brief's sentences, each with its source [n], as many as `budget` words allow (the first always).

    A sentence the collapsed quotes below already show in full is left out: visible words are scarce,
    and the next brief sentence says something the reader would not see otherwise.
    """
    cited = [s for s in brief if s.rank in numbers]  # a sentence from a passage not in this answer can't be checked
    unseen = [s for s in cited if _normal(s.text) not in previews]
    shown: list[str] = []
    words = 0
    for sentence in unseen or cited[:1]:
        text = f"{esc(sentence.text.strip())} [{numbers[sentence.rank]}]"
        count = len(to_plain(text).split())
        if shown and words + count > budget:
            break
        shown.append(text)
        words += count
    return " ".join(shown)


def render_answer(answer: Answer) -> list[str]:
    """The answer as HTML messages: the brief, each passage as a collapsed quote, the sources.

    Without a brief (older engines), the passages are plain paragraphs with the full citations.
    """
    if answer.sources_only:  # "link?": the last answer's sources, as its Sources button lists them
        return render_sources(answer.citations)
    if answer.no_answer:
        if answer.timeline:  # "and before that?": the earlier briefs of the story, no passage to quote
            return render_timeline(answer)
        refusal = esc(answer.notice or "Nothing in the briefs answers this closely enough.")
        if not answer.closest:
            return [refusal]
        closest = "\n".join(_short_citation(f"[{i}]", h.citation) for i, h in enumerate(answer.closest, 1))
        return [f"{refusal}\n\n<b>{CLOSEST_HEADING}</b>\n{closest}"]
    cited = answer.citation_numbers()
    passages = [f"{p.rank}. {_passage_html(p)} [{cited[p.rank]}]" for p in answer.passages]
    if not answer.brief:
        sources = "\n".join(citation_line(i, c) for i, c in enumerate(answer.citations, 1))
        return _messages([*_header(answer), *passages, f"<b>Sources</b>\n{sources}"])
    quotes = [f"{QUOTE}{passage}</blockquote>" for passage in passages]
    sources = "\n".join(_short_citation(f"[{i}]", c) for i, c in enumerate(answer.citations, 1))
    rest = [*quotes, f"<b>Sources</b>\n{sources}"]
    header = _header(answer)
    budget = VISIBLE_WORDS - sum(_visible_words(block) for block in [*header, *rest])
    previews = _normal(" ".join(_visible_text(quote) for quote in quotes))
    # A story question's timeline follows the brief: the answer first, then how the story got there.
    story = [timeline_html(answer.timeline, answer.citations)] if answer.timeline else []
    return _messages([*header, _brief_html(answer.brief, cited, budget, previews), *story, *rest])


# --------------------------------------------------------------------------- timelines


def long_date(day: date) -> str:
    """“12 May 2025”: a timeline reads as dates, not ISO stamps."""
    return f"{day.day} {day:%B %Y}"


def timeline_html(timeline: Timeline, citations: Sequence[Citation]) -> str:
    """“<b>Timeline</b>” then one dated line per shown entry, “12 May 2025 · sentence [n]”, oldest first,
    and “and N more briefs” when some are not shown; [n] numbers the answer's `citations`."""
    numbers = {c.article_id: i for i, c in enumerate(citations, 1)}
    lines = [f"<b>Timeline</b> · {esc(timeline.subject)}"]
    for entry in timeline.visible:
        number = numbers.get(entry.citation.article_id)
        cite = f" [{number}]" if number else ""
        lines.append(f"{esc(long_date(entry.published_at))} · {esc(entry.text)}{cite}")
    if timeline.remaining:
        lines.append(f"<i>and {timeline.remaining} more brief{'s' if timeline.remaining > 1 else ''} (More)</i>")
    return "\n".join(lines)


def render_timeline(answer: Answer) -> list[str]:
    """A timeline on its own (the Timeline button, inline results): the dated lines, then the sources."""
    if answer.timeline is None:
        return [esc(answer.notice or "The briefs hold fewer than two dated briefs on this.")]
    visible = {e.citation.article_id for e in answer.timeline.visible}
    sources = "\n".join(_short_citation(f"[{i}]", c) for i, c in enumerate(answer.citations, 1) if c.article_id in visible)
    return _messages([timeline_html(answer.timeline, answer.citations), f"<b>Sources</b>\n{sources}"])


def render_sources(citations: Sequence[Citation]) -> list[str]:
    """The full citation list of one answer (author and raw link included)."""
    if not citations:
        return ["No sources for this answer."]
    blocks = ["<b>Sources for this answer</b>"]
    blocks += [citation_line(i, c, full=True) for i, c in enumerate(citations, 1)]
    return _messages(blocks)


def render_context(number: int, citation: Citation, chunks: Sequence[Chunk], focus: int | None = None) -> list[str]:
    """A cited passage with its neighbours in the brief; the cited passage (position `focus`) in bold."""
    blocks = [f"<b>From [{number}]</b> {citation_line(number, citation)[len(f'[{number}] '):]}"]
    for chunk in chunks:
        text = esc(chunk.text.strip())
        blocks.append(f"<b>{text}</b>" if chunk.position == focus and len(chunks) > 1 else text)
    if not chunks:
        blocks.append("That passage is no longer in the index.")
    return _messages(blocks)


def render_latest(articles: Sequence[Article]) -> list[str]:
    """The newest briefs with dates and publishers."""
    if not articles:
        return ["No briefs indexed yet."]
    lines = ["<b>Latest briefs</b>"]
    for article in articles:
        details = ", ".join(esc(d) for d in (_day(article.published_at) or "undated", article.source) if d)
        lines.append(f"• {link(article.title, article.url)} — {details}")
    return _messages(["\n".join(lines)])


def render_corpus(stats: CorpusStats) -> list[str]:
    """What the corpus holds: counts, date range and publishers."""
    span = (f"from {_day(stats.oldest)} to {_day(stats.newest)}" if stats.oldest and stats.newest
            else "with no publication dates")
    lines = [f"<b>The corpus</b>: {stats.articles} brief(s), {stats.passages} passage(s), {esc(span)}.",
             "<b>Publishers</b>"]
    lines += [f"• {esc(name)}: {count}" for name, count in stats.sources]
    return _messages(["\n".join(lines)])


def format_uptime(seconds: float) -> str:
    """“2d 3h 4m 5s” style uptime."""
    delta = timedelta(seconds=int(seconds))
    hours, rest = divmod(delta.seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{delta.days}d"] if delta.days else []
    parts += [f"{hours}h"] if hours or parts else []
    parts += [f"{minutes}m"] if minutes or parts else []
    return " ".join([*parts, f"{secs}s"])


def render_stats(stats: CorpusStats | None, uptime_seconds: float, extra: Sequence[tuple[str, object]] = ()) -> list[str]:
    """Admin view: corpus numbers, model, uptime and any extra counters."""
    lines = ["<b>Bot status</b>", f"Uptime: {esc(format_uptime(uptime_seconds))}"]
    if stats is None:
        lines.append("Index: none yet")
    else:
        lines += [f"Briefs: {stats.articles}", f"Passages: {stats.passages}", f"Model: <code>{esc(stats.model)}</code>",
                  f"Newest brief: {esc(_day(stats.newest) or 'undated')}"]
    lines += [f"{esc(name)}: {esc(value)}" for name, value in extra]
    return _messages(["\n".join(lines)])


def render_inline(passage: Passage, citation: Citation) -> str:
    """One passage with its citation, as the message an inline result sends (≤ 4,096)."""
    cite = citation_line(1, citation)[len("[1] "):]
    body = f"{_passage_html(passage)}\n\n{cite}"
    if utf16_len(body) <= MAX_MESSAGE:
        return body
    room = MAX_MESSAGE - utf16_len(cite) - 4
    if room < MAX_MESSAGE // 2:  # a monstrous citation (a giant link or publisher): the message is cut instead
        return split_html(body)[0]
    return f"{split_html(_passage_html(passage), room)[0]} …\n\n{cite}"


def inline_description(answer: Answer, passage: Passage) -> str:
    """An inline result's grey line: the brief's first sentence (the answer), else the passage's key sentence."""
    return short_title(answer.brief[0].text if answer.brief else passage.highlight, 120)

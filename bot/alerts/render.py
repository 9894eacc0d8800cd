"""Alert messages, Telegram-free: what a delivery stores about a brief and the HTML it is sent as.

One brief → title, publisher · date, 2–3 highlight lines, link and an "Ask about this" button; a burst
or a daily digest → one list message. Every message is ≤ 4,096 UTF-16 units.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from datetime import datetime
from typing import Any

from bot.alerts.topics import NewBrief
from bot.messages import MAX_MESSAGE, utf16_len

__all__ = ["CALLBACK_PREFIX", "brief_info", "central_sentences", "clip", "render_alert", "render_collection", "short_id"]

CALLBACK_PREFIX = "alert:ask:"


def short_id(article_id: str) -> str:
    return hashlib.sha256(article_id.encode()).hexdigest()[:12]


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def central_sentences(body: str, n: int = 2) -> list[str]:
    """The brief's most central sentences (by shared vocabulary), in their original order."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z“\"'])", " ".join(body.split())) if len(s.split()) >= 6]
    if not sentences:
        return [clip(body, 280)] if body.strip() else []
    words = [set(w for w in re.findall(r"[a-z]{4,}", s.lower())) for s in sentences]
    freq = Counter(w for ws in words for w in ws)
    scores = [sum(freq[w] for w in ws) / (len(ws) ** 0.5 or 1) for ws in words]
    best = sorted(sorted(range(len(sentences)), key=lambda i: -scores[i])[:n])
    return [sentences[i] for i in best]


def brief_info(brief: NewBrief) -> dict[str, Any]:
    """What a message needs about a brief, stored with the delivery (no engine needed at send time)."""
    lines = list(brief.highlights[:3]) or central_sentences(brief.body)
    return {"id": brief.id, "short": short_id(brief.id), "title": brief.title, "source": brief.source,
            "published": brief.published_at.isoformat() if brief.published_at else None,
            "url": brief.url if brief.url and re.match(r"^https?://\S+$", brief.url) else None,
            "highlights": [clip(line, 300) for line in lines[:3]]}


def _when(info: dict[str, Any]) -> str:
    published = info.get("published")
    return datetime.fromisoformat(published).strftime("%-d %b %Y") if published else ""


def _ask_button(info: dict[str, Any], label: str = "Ask about this") -> dict[str, str]:
    return {"text": label, "callback_data": CALLBACK_PREFIX + info["short"]}


def render_alert(info: dict[str, Any]) -> tuple[str, dict]:
    """One brief: title, publisher · date, 2–3 highlight lines, link, and the "Ask about this" button."""
    esc = html.escape
    parts = [f"🔔 <b>{esc(clip(info['title'], 300))}</b>"]
    meta = " · ".join(x for x in (info.get("source") and clip(info["source"], 80), _when(info)) if x)
    if meta:
        parts.append(f"<i>{esc(meta)}</i>")
    parts.append("")
    parts.extend(f"• {esc(line)}" for line in info.get("highlights", []))
    if info.get("url"):
        parts.append("")
        parts.append(f'<a href="{esc(info["url"], quote=True)}">Read the brief</a>')
    text = "\n".join(parts)
    if utf16_len(text) > MAX_MESSAGE:  # cannot happen with the clips above; belt and braces
        text = f"🔔 <b>{esc(clip(info['title'], 300))}</b>"
    return text, {"inline_keyboard": [[_ask_button(info)]]}


def render_collection(infos: list[dict[str, Any]], heading: str, max_items: int = 15) -> tuple[str, dict | None]:
    """Several briefs in one message (a burst, or the daily digest); ≤ 4,096 characters."""
    esc = html.escape
    shown = infos[:max_items]
    while True:
        lines = [f"🗞 <b>{esc(heading)}</b>", ""]
        for info in shown:
            meta = " · ".join(x for x in (info.get("source") and clip(info["source"], 60), _when(info)) if x)
            title = esc(clip(info["title"], 200))
            if info.get("url"):
                title = f'<a href="{esc(info["url"], quote=True)}">{title}</a>'
            lines.append(f"• <b>{title}</b>" + (f" — <i>{esc(meta)}</i>" if meta else ""))
        if len(infos) > len(shown):
            lines.append(f"…and {len(infos) - len(shown)} more (see /latest).")
        text = "\n".join(lines)
        if utf16_len(text) <= MAX_MESSAGE or len(shown) <= 1:
            break
        shown = shown[:-1]
    buttons = [[_ask_button(info, f"Ask: {clip(info['title'], 40)}")] for info in shown[:5]]
    return text, ({"inline_keyboard": buttons} if buttons else None)

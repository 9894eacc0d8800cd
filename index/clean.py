"""Text cleaning for ingested briefs: mojibake repair, site-furniture removal, whitespace.

Everything here is pure str -> str (or str -> pair of str) so it can be tested without files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


__all__ = [
    "repair_mojibake",
    "normalize_whitespace",
    "strip_inline_furniture",
    "split_furniture",
    "strip_furniture",
    "drop_lines_not_text",
    "find_byline",
    "Split",
]

# ---------------------------------------------------------------------------
# Mojibake
# ---------------------------------------------------------------------------


def _combined_table() -> dict[str, int]:
    """Map each char a cp874/cp1252 mis-decoder can emit for a byte 0x80-0xFF back to that byte."""
    table: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        raw = bytes([byte])
        # The broken decoder in our corpus used cp1252 for 80-9F and Thai cp874 for A0-FF.
        codec = "cp1252" if byte < 0xA0 else "cp874"
        try:
            table[raw.decode(codec)] = byte
        except UnicodeDecodeError:
            if byte < 0xA0:
                # Sloppy decoders pass undefined C1 bytes through as the same code point.
                table[chr(byte)] = byte
            # Undefined cp874 bytes (DB-DE, FC-FF) cannot be told apart from real text: skip.
    for byte in range(0xA0, 0xC0):
        # Some pages mix in cp1252 for continuation bytes ("โ€¦" for "…"); these symbols can
        # only complete a sequence opened by a Thai lead letter, so the extra keys are safe.
        table.setdefault(bytes([byte]).decode("cp1252"), byte)
    return table


_TO_BYTE = _combined_table()
_RUN = re.compile("[" + re.escape("".join(sorted(_TO_BYTE))) + "]+")
_THAI = re.compile(r"[\u0e00-\u0e7f]")
# Symbols that often stand alone between spaces ("© 2025"), so need no glued neighbour.
_STANDALONE = frozenset("\u00a0©®°±§¶·£¥¢×÷«»¿¡")
# E2 80 9D (”) loses its last byte: 9D is undefined in cp1252, so only "โ€" survives.
_CONTINUATION = "".join(ch for ch, byte in _TO_BYTE.items() if byte < 0xC0)
_LOST_RDQUO = re.compile("(?<![\u0e00-\u0e7f])\u0e42\u20ac(?![" + re.escape(_CONTINUATION) + "])")
# A mis-decoded NBSP whose A0 byte already became a plain space: "ย " between non-Thai text.
_LONE_NBSP_LEAD = re.compile(r"(?<![\u0e00-\u0e7f])\u0e22(?= )(?![ ]?[\u0e00-\u0e7f])")


def _utf8_length(lead: int) -> int:
    """Length of the UTF-8 sequence a lead byte announces (0 if it is not a multi-byte lead)."""
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _plausible(decoded: str) -> bool:
    """Reject decodings to C1 controls, unassigned or private-use code points."""
    return all(
        not 0x80 <= ord(ch) <= 0x9F and unicodedata.category(ch) not in {"Cn", "Co", "Cs"}
        for ch in decoded
    )


def _candidates(run: str) -> list[tuple[int, int, str]]:
    """(start, end, decoded) for every valid UTF-8 multi-byte sequence inside a run."""
    data = bytes(_TO_BYTE[ch] for ch in run)
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(data):
        size = _utf8_length(data[i])
        if size and i + size <= len(data):
            try:
                decoded = data[i : i + size].decode("utf-8")
            except UnicodeDecodeError:
                decoded = ""
            if decoded and _plausible(decoded):
                found.append((i, i + size, decoded))
                i += size
                continue
        i += 1
    return found


def _is_thai(ch: str) -> bool:
    """True for a character of the Thai block."""
    return bool(_THAI.match(ch))


def _accept(run: str, s: int, e: int, decoded: str, neighbours: tuple[str, str]) -> bool:
    """Whether a decodable sequence is mojibake rather than a genuine Thai word."""
    if any(_is_thai(ch) for ch in neighbours):
        return False  # inside Thai text: "กรกฎาคม" contains the valid UTF-8 pair "รก"
    if any(_TO_BYTE[ch] < 0xA0 for ch in run[s:e]) or decoded in _STANDALONE:
        return True  # "€", "™", "œ"… never occur between Thai letters; "©" stands alone
    # Only Thai letters: accept when glued to Latin text ("cafรฉ"), not as a word of its own.
    return any(ch and not ch.isspace() for ch in neighbours)


def _fix_run(text: str, start: int, end: int) -> str:
    """Repair one run of mappable chars, keeping sequences that sit inside genuine Thai words."""
    run = text[start:end]
    found = _candidates(run)
    covered = {k for s, e, _ in found for k in range(s, e)}

    def neighbour(k: int) -> str:
        # Chars of other candidates count as non-Thai: "โ€œโ€™" is two quotes, not Thai text.
        if 0 <= k < len(run):
            return "\x80" if k in covered else run[k]
        outside = start + k
        return text[outside] if 0 <= outside < len(text) else ""

    out: list[str] = []
    pos = 0
    for s, e, decoded in found:
        if not _accept(run, s, e, decoded, (neighbour(s - 1), neighbour(e))):
            continue
        out.append(run[pos:s])
        # A repaired NBSP was a space in the source; indexing wants a plain space.
        out.append(" " if decoded == "\u00a0" else decoded)
        pos = e
    out.append(run[pos:])
    return "".join(out)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as cp874/cp1252 (Thai-looking mojibake), then let ftfy fix the common cases."""
    text = _LOST_RDQUO.sub("\u201d", text)
    parts: list[str] = []
    pos = 0
    for match in _RUN.finditer(text):
        parts.append(text[pos : match.start()])
        parts.append(_fix_run(text, match.start(), match.end()))
        pos = match.end()
    parts.append(text[pos:])
    repaired = _LONE_NBSP_LEAD.sub("", "".join(parts))
    # Imported here: only ingest repairs text, and ftfy's import (50 ms) would slow every one-shot ask.
    import ftfy

    return ftfy.fix_text(repaired, ftfy.TextFixerConfig(
        uncurl_quotes=False,  # curly quotes are correct text, not damage
        unescape_html=False,  # HTML entities are handled by the HTML extractor, not here
        explain=False,
    ))


# ---------------------------------------------------------------------------
# Whitespace
# ---------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
# Control chars except \n; \t is handled as a space above.  Zero-width space and BOM go too.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")


def normalize_whitespace(text: str) -> str:
    """Collapse spaces (NBSP included), drop control chars, strip lines, keep at most one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _SPACES.sub(" ", text.replace("\t", " "))
    text = _CONTROLS.sub("", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# ---------------------------------------------------------------------------
# Site furniture
# ---------------------------------------------------------------------------

# Removed wherever they appear: link annotations and leaked WordPress block comments
# (the leading "<" is sometimes mangled, e.g. into "©", so allow any one char before "!--").
_INLINE = re.compile(
    r"\s*\((?:opens|open|opening) in (?:a )?new (?:tab|window)\)"
    r"|\S?!--\s*/?wp:.*?--(?:>|&gt;)"
    r"|<!--.*?-->",
    re.IGNORECASE,
)

# Lines that open the furniture zone at the end of a page; one pattern per family.
_ZONE_MARKERS = [
    # share boxes
    r"spread the word\s*:?|share(?: this| the story| this (?:article|post|story|page))?\s*:?"
    r"|share (?:on|via) \w+(?: \w+)?\s*:?"
    r"|(?:facebook|twitter|x|linkedin|email|whatsapp|reddit|telegram)"
    r"(?:[ ,|/]+(?:facebook|twitter|x|linkedin|email|whatsapp|reddit|telegram))+",
    # taxonomy footers
    r"(?:categories|category|tags|tagged|filed under|topics)\s*:.*",
    # search box and recent/related/latest link lists
    r"search(?: for)?\s*:?",
    r"(?:recent|related|latest|more|popular|trending|top)\s+(?:[\w-]+\s+){0,2}"
    r"(?:news|posts|articles|stories|reads)\s*:?",
    r"you (?:may|might) also (?:like|enjoy)\s*:?|read (?:more|next)\s*:?|more from .{1,40}",
    # comment forms
    r"\d+\s+comments?|no comments(?: yet)?\.?|(?:submit|post|leave|add|write) a (?:comment|reply)\s*:?",
    r"leave a reply\s*:?.*|cancel reply|your email address will not be published.*",
    # newsletter boxes
    r"straight into your inbox|(?:subscribe|sign up)(?: now)?(?: to| for)? (?:our|the) (?:\w+ )?newsletter.*",
    r"(?:get|receive) (?:a |the |our )?(?:daily|weekly|free)? ?(?:news|newsletter|updates?).{0,80}",
    r"thanks? (?:you )?for subscribing.*|fantastic! thanks for subscribing.*",
    # author boxes and about-us boilerplate
    r"about (?:the author|the authors|us|rare earth exchanges|reex)\s*:?",
    r"(?:©|\(c\)).{0,80}|copyright\s*(?:©|\(c\))?\s*(?:\d{4}|.*all rights reserved).{0,80}",
]
_ZONE = re.compile(r"^(?:" + "|".join(_ZONE_MARKERS) + r")$", re.IGNORECASE)
# A newsletter promo dropped into the middle of an article ("Sign up for CNN's Wonder Theory
# newsletter…", "A version of this story appeared in…"): the line goes, the article goes on.
# Both a newsletter/inbox mention and a call to the reader are needed, so prose that reports on a
# newsletter ("Lopez confirmed via her fan newsletter…") stays.
# "delivered to your inbox daily. Sign up here.", "Sign up for text message alerts", "SIGN UP FOR FACEBOOK NEWS
# ALERTS", "Follow our sports newsletter" went on standing in passages (the news-QA corpus had 150 such lines left).
_PROMO_TOPIC = re.compile(r"\bnewsletters?\b|\b(?:in|into|to) your (?:inbox(?:es)?|phone)\b|\b(?:text message|news) alerts\b",
                          re.IGNORECASE)
_PROMO_CALL = re.compile(r"\bsign(?:ing)? up\b|\bsubscrib(?:e|ed|ing)\b|\bin(?:to)? your inbox\b|\bfollow our\b"
                         r"|\b(?:edition|version) of (?:this|CNN)", re.IGNORECASE)
_MAX_PROMO_WORDS = 60
# A photo gallery flattened into one paragraph: "Photos: … Hide Caption 1 of 49 Photos: …".
_GALLERY = re.compile(r"\bHide Caption \d+ of \d+\b")
# Lines inside an article that are not its text, one pattern per family: a video player ("Video Ad Feedback
# …02:46 - Source: CNN", "JUST WATCHED … Replay More Videos"), a note to the reader ("Editor's note: Click here
# for a lite version…", "Correction: An earlier version…", "For the latest…, see our live updates here."), a
# link ("READ MORE: Artemis I by the numbers", "MORE:Brittney Griner en route…") and a photo credit ("David
# Rose/Shutterstock Liz Truss poses…"). Found in the news-QA corpus (CNN, USA Today), where each one stood in
# a story's timeline as a brief's news (docs/quality.md).
_AGENCY = r"(?:Shutterstock|Getty Images|AFP|AP|Reuters|Bloomberg|EPA|Pool|POOL|Sipa|USA TODAY|Imagn)"
_NOT_TEXT = re.compile(
    r"^(?:Video Ad Feedback|JUST WATCHED)\b"
    r"|^(?:Editor['’]s [Nn]ote|Correction|Clarification)\s*:|^This page recaps the news\b"
    r"|^Here['’]s what (?:else )?you need to know to Get Up to Speed\b"
    r"|^For the latest\b.{0,120}\b(?:see|stay with|follow) our\b"
    r"|^(?:(?:READ|SEE) (?:MORE|ALSO)|RELATED(?: COVERAGE)?|MORE|WATCH|MUST WATCH|YOU MAY (?:ALSO )?LIKE|LISTEN)\s*:"
    rf"|^(?:[A-Z][\w'’.-]*\s){{0,3}}[A-Z][\w'’.-]*/(?:[\w .-]+/){{0,3}}{_AGENCY}\b"
)
# How to reach the reporter, below a story: "Contact Tim Evans at 317-444-6204 or tim.evans@indystar.com. Follow him on
# Twitter: @starwatchtim.", "Natalie Neysa Alund covers trending news for USA TODAY. Reach her at nalund@usatoday.com",
# "Follow Mike Snider on Twitter: @mikesnider.", an address alone. An address in a story about a recall or a
# closure ("customers can call 702-387-6366 or email…", "advised to contact Miriam Nolte at…") is news and stays.
_EMAIL = r"[\w.-]+ ?@[\w-]+\.\w+"
_PHONE = r"\(?\d{3}\)?[ -]\d{3}-\d{4}"
_CONTACT = re.compile(
    rf"^(?:Contact|Reach|Call|E-?mail)\b.{{0,80}}?(?:{_EMAIL}|{_PHONE})|\bcan be reached\b"
    rf"|\b(?:reporter|writer|editor|columnist|covers|correspondent)\b.{{0,200}}?\b(?:contact|reach|e-?mail)\b.{{0,80}}?{_EMAIL}"
    rf"|^Follow\b.{{0,80}}\bTwitter\b|^Follow @|^\W*(?:[\w .'’-]{{1,40}},\s*)?(?:{_EMAIL}|@\w+)(?:,[\w .]{{0,30}})?\W*$",
    re.IGNORECASE)
_MAX_CONTACT_WORDS = 60
# A photo's credit ending its caption: "Residents of Red Lodge, Montana, clear mud from the city's main street on
# Tuesday. Matthew Brown/AP" (192 lines in 100 news-QA articles). The credit goes, the caption stays: dropping whole
# captions cost dev R@1 0.880 → 0.843, as they often say who and where. A credit opening the line is in `_NOT_TEXT`.
_CAPTION_CREDIT = re.compile(rf"(?<=[.”\"])\s+(?:[A-Z][\w'’.-]*\s){{0,3}}[A-Z][\w'’.&-]*/(?:[\w .&'’-]+/){{0,3}}{_AGENCY}\s*$")
# A dateline on its own line above the body ("Washington CNN —", "Reuters —"): not a title, not text.
_DATELINE = re.compile(r"^[^.!?]{1,60}\s[—–-]$")
# …or opening the first paragraph: "(CNN) The FBI…", "WASHINGTON (AP) — The…", "London (CNN Business) A…".
_DATELINE_PREFIX = re.compile(r"^(?:[A-Z][\w .,'/-]{0,40}\s)?\([A-Z][\w ]{0,24}\)\s*(?:[—–-]\s*)?(?=[A-Z“\"])")
_BYLINE = re.compile(
    r"^(?:[Bb]y|[Ww]ritten [Bb]y|[Aa]uthor:)\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})\s*$",
)
# Capitalised words that make "By The Numbers" a heading rather than a byline.
_NOT_NAMES = frozenset(
    {"The", "A", "An", "This", "That", "These", "Those", "Contrast", "Comparison", "Far", "Now", "Design", "Way"}
)
# Marker lines are short; a long line is prose even if it starts like one.
_MAX_MARKER_WORDS = 25
_ABOUT = re.compile(r"^about\s+(.{2,60}?)\s*:?$", re.IGNORECASE)
# Running text rather than a heading or a link title: a long line, or a finished sentence.
_PROSE_WORDS = 12
_SENTENCE_END = re.compile(r"\w{2,}[.!?][\"”’)]?$")


@dataclass(frozen=True)
class Split:
    """A text cut where its site furniture starts: `body` to keep, `furniture` to mine for metadata."""

    body: str
    furniture: str


def strip_inline_furniture(text: str) -> str:
    """Remove furniture that sits inside sentences: "(opens in a new tab)", WordPress comments."""
    return _INLINE.sub("", text)


def _byline_name(line: str) -> str | None:
    """The name in a "By Name" line, or None if the line is not a byline."""
    match = _BYLINE.match(line.strip())
    if not match or _NOT_NAMES.intersection(match.group(1).split()):
        return None
    return match.group(1)


def find_byline(text: str) -> str | None:
    """The author name from the first "By Name" line, if any."""
    for line in text.split("\n"):
        name = _byline_name(line)
        if name:
            return name
    return None


def _is_about_boilerplate(line: str, following: str) -> bool:
    """True for "About Acme" followed by "Acme is …": a company boilerplate, not a section heading."""
    match = _ABOUT.match(line)
    if not match or not match.group(1)[0].isupper() or len(line.split()) > 8:
        return False
    name = re.escape(match.group(1))
    return re.match(name + r"(?:\s*\([^)]*\))?,?\s+(?:is|are|was|has|provides|operates)\b", following) is not None


def _is_prose(line: str) -> bool:
    """A line of article text, which means the body has started."""
    words = len(line.split())
    return words >= _PROSE_WORDS or (words >= 3 and _SENTENCE_END.search(line) is not None)


def _is_promo(line: str) -> bool:
    """A newsletter sign-up box inside the article."""
    return (len(line.split()) <= _MAX_PROMO_WORDS and _PROMO_TOPIC.search(line) is not None
            and _PROMO_CALL.search(line) is not None)


def _is_not_text(line: str) -> bool:
    """A line inside the article that is none of its text, known without the page around it: a sign-up box, a video
    player, a note to the reader, a link line, a photo credit, the reporter's address."""
    return (_is_promo(line) or _NOT_TEXT.match(line) is not None
            or (len(line.split()) <= _MAX_CONTACT_WORDS and _CONTACT.search(line) is not None))


def _opens_zone(line: str, following: str, seen_prose: bool) -> bool:
    """Whether this line starts the trailing furniture zone."""
    if len(line.split()) > _MAX_MARKER_WORDS:
        return False
    if _ZONE.match(line) or _is_about_boilerplate(line, following):
        return True
    # A "By Name" line after the body has started is an author box, not a byline.
    return seen_prose and _byline_name(line) is not None


def split_furniture(text: str) -> Split:
    """Split text at the first furniture marker after the body; drop marker lines before it."""
    lines = [line.strip() for line in strip_inline_furniture(text).split("\n")]
    kept: list[str] = []
    seen_prose = False
    for i, line in enumerate(lines):
        if not line:
            kept.append(line)
            continue
        following = next((nxt for nxt in lines[i + 1 :] if nxt), "")
        if _opens_zone(line, following, seen_prose):
            if seen_prose:
                # Everything from here on is furniture: comment forms, link lists, newsletter boxes.
                return Split(normalize_whitespace("\n".join(kept)), normalize_whitespace("\n".join(lines[i:])))
            continue  # leading furniture (a search box above the article): drop just the line
        if _is_not_text(line) or _GALLERY.search(line) or (not seen_prose and _DATELINE.match(line)):
            continue
        if not seen_prose and _is_prose(line):
            line = _DATELINE_PREFIX.sub("", line)
            seen_prose = True
        kept.append(_CAPTION_CREDIT.sub("", line))
    return Split(normalize_whitespace("\n".join(kept)), "")


def drop_lines_not_text(body: str) -> str:
    """A stored body without the lines `_is_not_text` finds and the credits ending captions: unlike the furniture
    zone, they are found without the page around them, so an index made before a family was known can be cleaned of
    it (index.ingest.rebuild)."""
    return normalize_whitespace("\n".join(_CAPTION_CREDIT.sub("", line) for line in body.split("\n")
                                          if not _is_not_text(line.strip())))


def strip_furniture(text: str) -> str:
    """The text without site furniture (see `split_furniture`)."""
    return split_furniture(text).body

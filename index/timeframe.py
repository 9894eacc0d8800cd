"""Time words in questions: "latest", "what's new?", "this week", "since May 2025", "since Geneva"."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

__all__ = ["TimeIntent", "parse_time", "timeless"]

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m} | {"sept": 9}
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
# Named in a question without its year ("monkeypox in July"): capitalised, so "in may" is no month.
_NAMED_MONTH = r"(?:" + "|".join(sorted({*calendar.month_name[1:], *calendar.month_abbr[1:], "Sept"}, key=len,
                                         reverse=True)) + r")\.?"
_YEAR = r"(?:19|20)\d\d"
# "in recent years" is background, not a request for the newest briefs.
_LATEST = re.compile(r"\b(latest|newest|most recent|recent(?:ly)?(?!\s+(?:years|decades|months|times|history|memory))"
                     r"|lately|news)\b", re.I)
# "What's new?", "anything new on terbium?", "any new stories?": "new" asks for the newest briefs only
# after these words ("new export rules", "New York" are subjects).
_NEW = re.compile(r"\b(?:what(?:'s|’s|s| is)|anything|something|any)\s+(new)\b", re.I)
_UNITS = {"hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}
# "the past few days", "a couple of weeks ago": how many, in words too.
_COUNTS = {"a": 1, "an": 1, "a couple of": 2, "couple of": 2, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
           "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "few": 3, "several": 5}
_COUNT = r"(\d+|(?:a )?couple of|an?|one|two|three|four|five|six|seven|eight|nine|ten|few|several)"
_MAX_COUNT = 100  # "the past 99999999 years" overflowed the date arithmetic
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class TimeIntent:
    """The question without its time phrase, and the window or ordering the phrase asked for."""

    query: str
    published_from: date | None = None
    published_to: date | None = None
    wants_latest: bool = False
    since_topic: str | None = None
    before_topic: str | None = None  # a story's "before she became prime minister"
    # The words that set the window ("this week", "since Geneva"), for "Nothing from this week; …".
    phrase: str | None = None


def _relative(today: date) -> list[tuple[re.Pattern[str], tuple[date, date | None]]]:
    """Relative phrases → (first, last) day. "This week/month" are the past 7/31 days, not the
    calendar week: on a Monday, "this week's news" still means the stories of the last few days."""
    monday = today - timedelta(days=today.weekday())
    last_month_end = today.replace(day=1) - timedelta(days=1)
    return [
        (re.compile(r"\btoday\b", re.I), (today, None)),
        (re.compile(r"\byesterday\b", re.I), (today - timedelta(days=1), today - timedelta(days=1))),
        (re.compile(r"\bthis week\b", re.I), (today - timedelta(days=6), None)),
        (re.compile(r"\blast week\b", re.I), (monday - timedelta(days=7), monday - timedelta(days=1))),
        (re.compile(r"\bthis month\b", re.I), (today - timedelta(days=30), None)),
        (re.compile(r"\blast month\b", re.I), (last_month_end.replace(day=1), last_month_end)),
        (re.compile(r"\bthis year\b", re.I), (today.replace(month=1, day=1), None)),
        # "on Monday": from the latest Monday (today, on a Monday) on, as its news is reported that day or after
        *((re.compile(rf"\bon {name}\b", re.I), (_weekday(today, name, 0), None)) for name in _WEEKDAYS),
    ]


def _weekday(today: date, name: str, back: int) -> date:
    """The latest `name`day on or before `today`, or before it when `back` is 7 ("since Saturday", said on one)."""
    return today - timedelta(days=(today.weekday() - _WEEKDAYS.index(name)) % 7 or back)


def _absolute_date(text: str) -> tuple[date, date] | None:
    """A date phrase → the (first, last) day it covers."""
    text = text.strip().rstrip("?.!,").strip()
    for fmt in ("%Y-%m-%d", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%d %B %Y", "%b %d %Y"):
        try:
            day = datetime.strptime(re.sub(r"\bSept\b", "Sep", text), fmt).date()  # not "September" → "Sepember"
            return day, day
        except ValueError:
            pass
    month = re.fullmatch(rf"({_MONTH})\s+(\d{{4}})", text, re.I)
    if month:
        year, number = int(month.group(2)), _MONTHS[month.group(1).lower().rstrip(".")]
        return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
    if re.fullmatch(r"(19|20)\d\d", text):
        return date(int(text), 1, 1), date(int(text), 12, 31)
    return None


def parse_time(question: str, today: date, story: bool = False) -> TimeIntent:
    """Find one time phrase (and "latest"/"news" beside it); the rest is what to search for.

    A bare year ("Mondale's running mate in 1984") dates the event, not the brief, so it stays in
    the query; a month ("Lynas in May 2025") becomes a window the engine may widen when it is empty.
    `story`: the question asks for a story, where "after X" and "before X" bound it too ("What happened with Truss
    after she became prime minister?"); elsewhere they join clauses ("Which leader quit after weeks of protests?").
    """
    intent = _window(question, today, story)
    if _LATEST.search(intent.query):
        return replace(intent, query=_clean(_LATEST.sub(" ", intent.query)), wants_latest=True)
    if new := _NEW.search(intent.query):
        return replace(intent, query=_clean(intent.query[: new.start(1)] + intent.query[new.end(1):]), wants_latest=True)
    return intent


def timeless(text: str, story: bool = False) -> str:
    """The text without its time phrase, which only places a window: what a question or story is about ("Liz Truss
    this week" is about Liz Truss; the "this" of "this week" points nowhere)."""
    return parse_time(text, date.today(), story).query


def _window(question: str, today: date, story: bool = False) -> TimeIntent:
    """The question read for its first time phrase, the more specific readings first."""
    return (_since_a_day(question, today) or _relative_phrase(question, today) or _counted_span(question, today)
            or _since_a_date(question) or _bounded_by_event(question, story) or _named_months(question, today)
            or TimeIntent(question))


def _relative_phrase(question: str, today: date) -> TimeIntent | None:
    """"today", "this week", "last month", "on Monday"."""
    for pattern, (start, end) in _relative(today):
        if found := pattern.search(question):
            phrase = re.sub(r"^on (\w)", lambda m: m.group(1).upper(), found.group(0).lower())  # "Nothing from Monday"
            return TimeIntent(_clean(pattern.sub(" ", question)), start, end, phrase=phrase)
    return None


def _counted_span(question: str, today: date) -> TimeIntent | None:
    """"in the past few days", "over the last 24 hours", "the past week", "two weeks ago"."""
    span = re.search(rf"\b(?:(?:in|over|during|within) )?(?:the )?(?:past|last|previous) (?:{_COUNT} )?"
                     r"(hour|day|week|month|year)s?\b", question, re.I)
    # "Over the past year" mostly spans the data ("prices rose 60% over the past year"), and a year's briefs are most
    # of a news corpus: without a count it stays words (as a window it cost a dev brief its answering sentence).
    if span and (span.group(1) or span.group(2).lower() != "year"):
        days = max(1, round(min(_count(span.group(1) or "1"), _MAX_COUNT) * _UNITS[span.group(2).lower()]))
        return TimeIntent(_clean(question[: span.start()] + question[span.end():]), today - timedelta(days=days),
                          phrase=span.group(0).lower())
    ago = re.search(rf"\b{_COUNT} (day|week|month|year)s? ago\b", question, re.I)
    if ago:  # the days around then
        unit = _UNITS[ago.group(2).lower()]
        then = today - timedelta(days=round(min(_count(ago.group(1)), _MAX_COUNT) * unit))
        half = timedelta(days=int(unit // 2))
        return TimeIntent(_clean(question[: ago.start()] + question[ago.end():]), then - half, min(today, then + half),
                          phrase=ago.group(0).lower())
    return None


def _since_a_date(question: str) -> TimeIntent | None:
    """"since Sep 23, 2025", "since May 2025", "since 2024"."""
    dated = re.search(rf"\bsince ({_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|{_MONTH}\s+\d{{4}}|\d{{4}}-\d\d-\d\d|(?:19|20)\d\d)\b",
                      question, re.I)
    if dated and (window := _absolute_date(dated.group(1))):
        return TimeIntent(_clean(question[: dated.start()] + question[dated.end():]), window[0], phrase=dated.group(0))
    return None


def _named_months(question: str, today: date) -> TimeIntent | None:
    """"between June and July", "in May 2025", "in July" (the latest July begun by today)."""
    span = re.search(rf"\b(?:between|from) ({_NAMED_MONTH})(?:\s+({_YEAR}))? (?:and|to|until|till|through) "
                     rf"({_NAMED_MONTH})(?:\s+({_YEAR}))?\b", question)
    if span:  # the second month is the latest by today, the first the latest by then
        last = _month(span.group(3), span.group(4), today)
        first = _month(span.group(1), span.group(2), last[1])
        return TimeIntent(_clean(question[: span.start()] + question[span.end():]), first[0], last[1],
                          phrase=span.group(0).split(" ", 1)[1])
    within = re.search(rf"\b(?:in|during) ({_MONTH}\s+(?:19|20)\d\d)\b", question, re.I)
    if within and (window := _absolute_date(within.group(1))):
        return TimeIntent(_clean(question[: within.start()] + question[within.end():]), *window,
                          phrase=within.group(1))
    bare = re.search(rf"\b(?:in|during) ({_NAMED_MONTH})(?!\s*,?\s*\d)\b", question)
    if bare:
        return TimeIntent(_clean(question[: bare.start()] + question[bare.end():]), *_month(bare.group(1), None, today),
                          phrase=bare.group(1))
    return None


def _count(word: str) -> int:
    return _COUNTS.get(word.lower()) or int(word)


def _since_a_day(question: str, today: date) -> TimeIntent | None:
    """"Since Monday", "since July 1", "since last week": from that day on (an event is `since_topic`)."""
    found = re.search(rf"\bsince ((?:last|this) (?:week|month)|yesterday|today|[A-Z][a-z]+day|"
                      rf"({_NAMED_MONTH})(?:\s+(\d{{1,2}}))?)\b(?![\s,]*\d)", question)
    if not found:
        return None
    phrase, named = found.group(1), found.group(1).lower()
    if named in _WEEKDAYS:
        start = _weekday(today, named, 7)
    elif found.group(2):
        start = _latest_day(found.group(2), int(found.group(3) or 1), today)
    elif relative := next((begin for pattern, (begin, _) in _relative(today) if pattern.fullmatch(phrase)), None):
        start = relative
    else:
        return None
    return TimeIntent(_clean(question[: found.start()] + question[found.end():]), start, phrase=f"since {phrase}")


def _latest_day(month: str, day: int, by: date) -> date:
    """The latest `month` `day` on or before `by` ("since July 20" said on 6 July is last year's)."""
    first, last = _month(month, str(by.year), by)
    if first.replace(day=min(day, last.day)) > by:
        first, last = _month(month, str(by.year - 1), by)
    return first.replace(day=min(day, last.day))


def _month(name: str, year: str | None, by: date) -> tuple[date, date]:
    """The first and last day of a named month: of `year`, else the latest such month begun by `by`."""
    number = _MONTHS[name.lower().rstrip(".")]
    chosen = int(year) if year else by.year if number <= by.month else by.year - 1
    return date(chosen, number, 1), date(chosen, number, calendar.monthrange(chosen, number)[1])


def _bounded_by_event(question: str, story: bool) -> TimeIntent | None:
    """"Since Geneva"; in a story also "after X" (the same) and "before X", X an event or a date."""
    words = "since|after|following|before" if story else "since"
    found = re.search(rf"\b({words}) (?:the )?(.+?)(?:[?.!,]|$)", question, re.I)
    if not found:
        return None
    rest, topic = _clean(question[: found.start()] + question[found.end():]), found.group(2).strip()
    before = found.group(1).lower() == "before"
    phrase = f"{'before' if before else 'since'} {topic}"
    if window := _absolute_date(topic):  # "before May 2025", "after 2024", "since 23 September 2025"
        if before:
            return TimeIntent(rest, published_to=window[0] - timedelta(days=1), phrase=phrase)
        after = found.group(1).lower() in ("after", "following")
        return TimeIntent(rest, window[1] + timedelta(days=1) if after else window[0], phrase=phrase)
    return TimeIntent(rest, before_topic=topic, phrase=phrase) if before else TimeIntent(rest, since_topic=topic, phrase=phrase)


def _clean(text: str) -> str:
    """Spacing mended where a time phrase came out ("What's the latest?" → "What's the?"), and the possessive
    it leaves ("Summarize this week's briefs" → "Summarize briefs")."""
    text = re.sub(r"(?:^|\s)['’]s\b", " ", text)
    return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,")

"""Time words mean what they say."""

from __future__ import annotations

from datetime import date

from index.timeframe import parse_time

TODAY = date(2026, 11, 22)  # a Sunday


def test_this_week_is_the_past_seven_days() -> None:
    intent = parse_time("what happened this week?", TODAY)
    assert intent.published_from == date(2026, 11, 16) and intent.published_to is None
    assert intent.phrase == "this week"
    on_monday = parse_time("what happened this week?", date(2026, 11, 23))
    assert on_monday.published_from == date(2026, 11, 17)  # not just Monday itself


def test_this_month_is_the_past_31_days() -> None:
    assert parse_time("terbium this month", date(2026, 12, 2)).published_from == date(2026, 11, 2)


def test_last_week_is_the_previous_monday_to_sunday() -> None:
    intent = parse_time("rare earths last week", TODAY)
    assert (intent.published_from, intent.published_to) == (date(2026, 11, 9), date(2026, 11, 15))
    assert intent.query == "rare earths"


def test_since_a_date_and_since_an_event() -> None:
    assert parse_time("since Sep 23, 2025 what changed", TODAY).published_from == date(2025, 9, 23)
    # "September" was spelt "Sepember" on its way to strptime and read as an event, "September 23"
    assert parse_time("since September 23, 2025 what changed", TODAY).published_from == date(2025, 9, 23)
    assert parse_time("What happened with Lynas since 23 September 2025?", TODAY, story=True).published_from == date(2025, 9, 23)
    event = parse_time("what happened since Geneva?", TODAY)
    assert event.since_topic == "Geneva" and event.published_from is None


def test_after_and_before_bound_a_story_and_join_clauses_elsewhere() -> None:
    after = parse_time("What happened with Liz Truss after she became prime minister?", TODAY, story=True)
    assert (after.query, after.since_topic, after.phrase) == (
        "What happened with Liz Truss", "she became prime minister", "since she became prime minister")
    before = parse_time("What happened with Liz Truss before the leadership vote?", TODAY, story=True)
    assert (before.query, before.before_topic, before.since_topic) == ("What happened with Liz Truss", "leadership vote", None)
    dated = parse_time("What happened with Lynas before May 2025?", TODAY, story=True)
    assert (dated.published_from, dated.published_to, dated.before_topic) == (None, date(2025, 4, 30), None)
    assert parse_time("What happened with Lynas after 2024?", TODAY, story=True).published_from == date(2025, 1, 1)
    clause = parse_time("Which leader quit after weeks of street demonstrations?", TODAY)
    assert clause.query == "Which leader quit after weeks of street demonstrations?" and clause.since_topic is None
    assert parse_time("Who held the post before Truss?", TODAY).before_topic is None


def test_a_month_without_its_year_is_the_latest_one_and_a_span_of_months_reads_both() -> None:
    """"Monkeypox in July" kept "July" as a search word and answered from any date."""
    july = parse_time("What happened with monkeypox in July?", date(2022, 8, 6))
    assert (july.query, july.published_from, july.published_to) == ("What happened with monkeypox?", date(2022, 7, 1),
                                                                     date(2022, 7, 31))
    assert parse_time("Lynas in December", date(2022, 8, 6)).published_from == date(2021, 12, 1)
    span = parse_time("monkeypox between June and July", date(2022, 8, 6))
    assert (span.query, span.published_from, span.published_to) == ("monkeypox", date(2022, 6, 1), date(2022, 7, 31))
    winter = parse_time("gallium exports from Nov to Feb", date(2022, 8, 6))
    assert (winter.published_from, winter.published_to) == (date(2021, 11, 1), date(2022, 2, 28))
    assert parse_time("Can prices fall in may?", date(2022, 8, 6)).published_from is None  # not a month


def test_everyday_spans_and_days_are_windows() -> None:
    """Each was searched as words and answered from any date ("since Monday" even searched for an event)."""
    today = date(2022, 8, 6)  # a Saturday
    cases = {
        "monkeypox news in the past few days": (date(2022, 8, 3), None),
        "what happened with monkeypox over the past two weeks": (date(2022, 7, 23), None),
        "monkeypox in the last 24 hours": (date(2022, 8, 5), None),
        "monkeypox in the past week": (date(2022, 7, 30), None),
        "monkeypox a couple of weeks ago": (date(2022, 7, 20), date(2022, 7, 26)),
        "what happened with monkeypox on Monday": (date(2022, 8, 1), None),  # its news comes that day or after
        "monkeypox since Monday": (date(2022, 8, 1), None),
        "monkeypox since Saturday": (date(2022, 7, 30), None),  # said on a Saturday: the one before
        "monkeypox since last week": (date(2022, 7, 25), None),  # was last week only
        "monkeypox since July": (date(2022, 7, 1), None),
        "monkeypox since July 20": (date(2022, 7, 20), None),
        "monkeypox since August 20": (date(2021, 8, 20), None),  # not yet this year
        "monkeypox since July 1, 2022": (date(2022, 7, 1), None),
    }
    for question, window in cases.items():
        intent = parse_time(question, today)
        assert ((intent.published_from, intent.published_to), intent.since_topic) == (window, None), question
        assert "monkeypox" in intent.query and not any(w in intent.query for w in ("since", "past", "ago", "Monday"))
    assert parse_time("monkeypox since the holiday", today).since_topic == "holiday"  # an event, not a day
    for absurd in ("monkeypox in the past 99999999 years", "monkeypox 99999999999 weeks ago"):  # raised OverflowError
        assert parse_time(absurd, today).published_from in (date(1922, 8, 31), date(2020, 9, 2)), absurd  # 100 at most


def test_in_a_month_is_that_whole_month() -> None:
    intent = parse_time("Lynas in May 2025", TODAY)
    assert (intent.published_from, intent.published_to) == (date(2025, 5, 1), date(2025, 5, 31))
    assert intent.phrase == "May 2025"


def test_a_bare_year_dates_the_event_not_the_brief() -> None:
    intent = parse_time("Who did Walter Mondale choose as his running mate in 1984?", TODAY)
    assert intent.published_from is None and intent.published_to is None
    assert "1984" in intent.query and not intent.wants_latest


def test_latest_asks_for_recency_not_a_window() -> None:
    intent = parse_time("latest on terbium", TODAY)
    assert intent.wants_latest and intent.query == "on terbium" and intent.published_from is None


def test_recent_years_is_background_not_a_request_for_the_newest() -> None:
    """"Lawsuits brought against him in recent years" (a dev quiz question) is searched as written."""
    for question in ("Which lawsuits were brought against him in recent years?", "the trend of recent decades",
                     "the worst flood in recent memory"):
        intent = parse_time(question, TODAY)
        assert not intent.wants_latest and intent.query == question, question
    assert parse_time("Hurricane Fiona: anything recent?", TODAY).wants_latest


def test_whats_new_asks_for_the_newest_briefs_but_new_as_a_subject_stays() -> None:
    for question, rest in (("What's new?", "What's?"), ("what is new on terbium?", "what is on terbium?"),
                           ("Anything new from Lynas this week?", "Anything from Lynas?")):
        intent = parse_time(question, TODAY)
        assert intent.wants_latest and intent.query == rest, question
    for question in ("What happened in New York?", "What are the new export rules?", "Is the new mine open?"):
        intent = parse_time(question, TODAY)
        assert not intent.wants_latest and intent.query == question, question


def test_past_n_days() -> None:
    assert parse_time("terbium in the past 10 days", TODAY).published_from == date(2026, 11, 12)


def test_news_beside_a_window_favours_newer_briefs_too() -> None:
    intent = parse_time("any news on rare earths this week?", TODAY)
    assert intent.wants_latest and intent.published_from == date(2026, 11, 16)
    assert "news" not in intent.query and "rare earths" in intent.query

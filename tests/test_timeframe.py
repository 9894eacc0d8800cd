"""Time words mean what they say."""

from __future__ import annotations

from datetime import date

from index.timeframe import parse_time

TODAY = date(2026, 11, 22)  # a Sunday


def test_this_week_starts_on_monday() -> None:
    intent = parse_time("what happened this week?", TODAY)
    assert intent.published_from == date(2026, 11, 16) and intent.published_to is None


def test_last_week_is_the_previous_monday_to_sunday() -> None:
    intent = parse_time("rare earths last week", TODAY)
    assert (intent.published_from, intent.published_to) == (date(2026, 11, 9), date(2026, 11, 15))
    assert intent.query == "rare earths"


def test_since_a_date_and_since_an_event() -> None:
    assert parse_time("since Sep 23, 2025 what changed", TODAY).published_from == date(2025, 9, 23)
    event = parse_time("what happened since Geneva?", TODAY)
    assert event.since_topic == "Geneva" and event.published_from is None


def test_in_a_month_is_that_whole_month() -> None:
    intent = parse_time("Lynas in May 2025", TODAY)
    assert (intent.published_from, intent.published_to) == (date(2025, 5, 1), date(2025, 5, 31))


def test_latest_asks_for_recency_not_a_window() -> None:
    intent = parse_time("latest on terbium", TODAY)
    assert intent.wants_latest and intent.query == "on terbium" and intent.published_from is None


def test_past_n_days() -> None:
    assert parse_time("terbium in the past 10 days", TODAY).published_from == date(2026, 11, 12)

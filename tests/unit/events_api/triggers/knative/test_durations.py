"""ISO-8601 durations written the way Knative v0.50 reads them (tenths of a second)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events_api.triggers.knative.durations import iso8601_duration, parse_iso8601_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "PT0S"),
        (0.3, "PT0.3S"),
        (0.1 + 0.2, "PT0.3S"),
        (0.01, "PT0.1S"),
        (0.25, "PT0.3S"),
        (0.24, "PT0.2S"),
        (1, "PT1S"),
        (12.5, "PT12.5S"),
        (59.96, "PT1M"),
        (60, "PT1M"),
        (90, "PT1M30S"),
        (90.5, "PT1M30.5S"),
        (300, "PT5M"),
        (600, "PT10M"),
        (3600, "PT1H"),
        (3661.2, "PT1H1M1.2S"),
        (7200.05, "PT2H0.1S"),
        (86400, "PT24H"),
    ],
)
def test_known_durations(seconds: float, text: str) -> None:
    assert iso8601_duration(seconds) == text


@pytest.mark.parametrize("seconds", [-0.1, -1, math.inf, -math.inf, math.nan])
def test_impossible_durations_are_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        iso8601_duration(seconds)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT0S", 0),
        ("PT0.3S", 0.3),
        ("PT1H", 3600),
        ("PT1H30S", 3630),
        ("PT2M", 120),
        ("PT90S", 90),
        ("PT1.25S", 1.25),
    ],
)
def test_parsing(text: str, seconds: float) -> None:
    assert parse_iso8601_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "P", "PT", "PT1", "P1D", "PT1S1M", "pt1s", "PT-1S", "1S"])
def test_parsing_refuses_what_is_not_a_time_duration(text: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_iso8601_duration(text)


durations = st.floats(min_value=0, max_value=10 * 86400, allow_nan=False, allow_infinity=False)


@given(durations)
def test_round_trip_within_a_twentieth_of_a_second(seconds: float) -> None:
    parsed = parse_iso8601_duration(iso8601_duration(seconds))
    if seconds >= 0.05:
        assert abs(parsed - seconds) <= 0.05 + 1e-9
    # Positive never becomes zero, zero stays zero.
    assert (parsed > 0) == (seconds > 0)


@given(durations)
def test_written_durations_are_canonical(seconds: float) -> None:
    text = iso8601_duration(seconds)
    assert iso8601_duration(parse_iso8601_duration(text)) == text
    # At most one decimal (rickb777/date/period keeps tenths), minutes and seconds below 60.
    parsed = parse_iso8601_duration(text)
    assert round(parsed * 10) == pytest.approx(parsed * 10)


@given(st.integers(min_value=0, max_value=1000), st.integers(0, 59), st.integers(0, 599))
def test_every_canonical_text_reads_back_as_written(hours: int, minutes: int, tenths: int) -> None:
    seconds = hours * 3600 + minutes * 60 + tenths / 10
    text = iso8601_duration(seconds)
    assert parse_iso8601_duration(text) == pytest.approx(seconds)
    assert text.startswith("PT")
    assert (f"{hours}H" in text) == (hours > 0)

"""ISO-8601 durations as Knative's delivery spec reads them (`backoffDelay`, `timeout`).

Knative v0.50 parses these with `github.com/rickb777/date/period` v1, which keeps **one decimal
place** (a fixed-point number of tenths; `PT0.25S` is read as 0.2 s) and 16-bit fields. So
:func:`iso8601_duration` writes tenths of a second at most, split into hours, minutes and
seconds (`90` → `PT1M30S`), and never turns a positive duration into zero. Only the time part
(`PT…`) is written or read: days and months have no fixed length.
"""

import math
import re
from decimal import ROUND_HALF_UP, Decimal

_TENTHS_PER_SECOND = 10
_TENTHS_PER_MINUTE = 60 * _TENTHS_PER_SECOND
_TENTHS_PER_HOUR = 60 * _TENTHS_PER_MINUTE

_DURATION = re.compile(
    r"PT(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?"
)


def iso8601_duration(seconds: float) -> str:
    """`seconds` as an ISO-8601 time duration, to the tenth of a second Knative keeps.

    `0.3` → `PT0.3S`, `0.25` → `PT0.3S` (half up), `90` → `PT1M30S`, `3600` → `PT1H`,
    `0` → `PT0S`; a positive duration shorter than a twentieth of a second is written as
    `PT0.1S` rather than zero.

    Raises:
        ValueError: `seconds` is negative, infinite or NaN.
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a finite number of seconds >= 0, got {seconds}")
    # Decimal of the float's shortest repr: 7200.05 rounds half up to 7200.1, as written.
    tenths = int((Decimal(repr(seconds)) * _TENTHS_PER_SECOND).quantize(1, ROUND_HALF_UP))
    if tenths == 0 and seconds > 0:
        tenths = 1
    hours, rest = divmod(tenths, _TENTHS_PER_HOUR)
    minutes, rest = divmod(rest, _TENTHS_PER_MINUTE)
    whole, tenth = divmod(rest, _TENTHS_PER_SECOND)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if rest or text == "PT":
        text += f"{whole}.{tenth}S" if tenth else f"{whole}S"
    return text


def parse_iso8601_duration(text: str) -> float:
    """Seconds in an ISO-8601 time duration such as `PT1M30.5S` (hours, minutes, seconds).

    Raises:
        ValueError: `text` is not a `PT…` duration with at least one component.
    """
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an ISO-8601 time duration such as 'PT1M30S'")
    hours, minutes, seconds = match.group("hours", "minutes", "seconds")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)

"""AWS Backup ScheduleExpression evaluation (cron and rate, UTC) and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dr_infra.targets.schedule_expression import ScheduleError, parse


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _iso(moments: list[float]) -> list[str]:
    return [datetime.fromtimestamp(m, UTC).strftime("%Y-%m-%d %H:%M") for m in moments]


def test_every_12_hours_fires_at_midnight_and_noon_utc() -> None:
    fired = list(parse("cron(0 0/12 * * ? *)").fire_times(_at("2026-12-01T05:00"), _at("2026-12-02T12:00"), 0))
    assert _iso(fired) == ["2026-12-01 12:00", "2026-12-02 00:00", "2026-12-02 12:00"]


def test_the_default_rule_and_weekday_names() -> None:
    daily = parse("cron(0 5 ? * * *)").next_times(_at("2026-12-01T06:00"), 0, 2)
    assert _iso(daily) == ["2026-12-02 05:00", "2026-12-03 05:00"]
    sundays = parse("cron(30 2 ? * SUN *)").next_times(_at("2026-12-01T00:00"), 0, 2)  # 2026-12-06 is a Sunday
    assert _iso(sundays) == ["2026-12-06 02:30", "2026-12-13 02:30"]


def test_rate_counts_from_its_origin() -> None:
    origin = _at("2026-12-01T10:17")
    fired = list(parse("rate(12 hours)").fire_times(origin, origin + 36 * 3600, origin))
    assert _iso(fired) == ["2026-12-01 22:17", "2026-12-02 10:17", "2026-12-02 22:17"]


@pytest.mark.parametrize(
    ("expression", "timezone", "reason"),
    [
        ("cron(0 12 L * ? *)", None, "not modelled"),
        ("cron(0 5 * * * *)", None, "must be '?'"),
        ("cron(0 25 * * ? *)", None, "0-23"),
        ("every 12 hours", None, "not a schedule expression"),
        ("rate(0 hours)", None, "at least 1"),
        ("cron(0 5 ? * * *)", "Europe/Paris", "only UTC"),
    ],
)
def test_what_is_refused_says_why(expression: str, timezone: str | None, reason: str) -> None:
    with pytest.raises(ScheduleError, match=reason):
        parse(expression, timezone)

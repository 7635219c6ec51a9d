"""How often a backup plan rule runs, read from its schedule expression."""

from __future__ import annotations

import pytest

from dr_infra.verify.posture import schedule_interval_hours


@pytest.mark.parametrize(
    ("expression", "hours"),
    [
        ("cron(0 */12 * * ? *)", 12),
        ("cron(0 5,17 * * ? *)", 12),
        ("cron(30 0,6,12,18 * * ? *)", 6),
        ("cron(0 3 * * ? *)", 24),
        ("cron(0 * * * ? *)", 1),
        ("rate(12 hours)", 12),
        ("rate(1 hour)", 1),
        ("rate(1 day)", 24),
        ("rate(30 minutes)", 0.5),
    ],
)
def test_regular_schedules(expression: str, hours: float) -> None:
    assert schedule_interval_hours(expression) == pytest.approx(hours)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 1,5 * * ? *)",  # 4 h then 20 h: no single interval
        "cron(0 */7 * * ? *)",  # 7 does not divide the day
        "cron(0 5 ? * MON *)",  # weekly
        "cron(0 5 1 * ? *)",  # monthly
        "cron(*/5 * * * ? *)",
        "every twelve hours",
        "",
    ],
)
def test_irregular_or_unknown_schedules_give_none(expression: str) -> None:
    assert schedule_interval_hours(expression) is None

"""When an AWS Backup rule's ScheduleExpression fires: ``cron(...)`` and ``rate(...)`` evaluated in UTC.

What AWS does: a backup rule's ``ScheduleExpression`` is "a cron expression in UTC specifying when AWS Backup
initiates a backup job" (default ``cron(0 5 ? * * *)``), written in the schedule-expression syntax of
CloudWatch Events / EventBridge rules: ``cron(minutes hours day-of-month month day-of-week year)`` with ``*``,
``?``, lists, ranges, ``/`` increments, month names JAN-DEC and weekday names SUN-SAT (1 = SUN), and
``rate(value unit)`` with unit minute(s), hour(s) or day(s). ``ScheduleExpressionTimezone`` (default Etc/UTC)
moves the schedule to another zone.
https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRule.html
https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html

What is modelled here: the fields above, evaluated in UTC. A ``rate`` fires every interval counted from the
moment its schedule started (the plan's creation), as an EventBridge rate rule counts from its creation.
Not modelled, refused with :class:`ScheduleError` naming the construct: ``L``, ``W`` and ``#`` in the day
fields, and time zones other than UTC. Used by the embedded target's plan scheduler and by the drill to know
when a plan's next run is due on any target.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONTHS = {
    m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))
}
WEEKDAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
UTC_ZONES = {"", "Etc/UTC", "UTC", "Etc/GMT", "GMT"}


class ScheduleError(ValueError):
    """The expression is malformed or uses a construct the embedded target does not model."""


def _field(text: str, low: int, high: int, names: dict[str, int] | None, what: str) -> frozenset[int] | None:
    """The values one cron field allows (``None``: any, ``*`` or ``?``)."""
    if text in {"*", "?"}:
        return None
    if any(c in text for c in "LW#"):
        raise ScheduleError(f"cron {what} {text!r}: L, W and # are not modelled by the embedded target")
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"cron {what} {text!r}: the increment must be a positive number")
            step = int(step_text)
        if part in {"*", "?"}:
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names, what), _value(b, names, what)
        else:
            start = _value(part, names, what)
            end = high if step > 1 else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise ScheduleError(f"cron {what} {text!r}: values must lie in {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None, what: str) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"cron {what}: {text!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class Schedule:
    """A parsed ScheduleExpression: a cron (sets of allowed values, ``None`` = any) or a rate (seconds)."""

    expression: str
    rate_s: float | None = None
    minutes: frozenset[int] | None = None
    hours: frozenset[int] | None = None
    days: frozenset[int] | None = None
    months: frozenset[int] | None = None
    weekdays: frozenset[int] | None = None  # 1 = SUN ... 7 = SAT
    years: frozenset[int] | None = None

    def _day_matches(self, day: datetime) -> bool:
        weekday = (day.isoweekday() % 7) + 1  # Monday=1..Sunday=7 -> SUN=1..SAT=7
        return (
            (self.years is None or day.year in self.years)
            and (self.months is None or day.month in self.months)
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )

    def fire_times(self, after: float, until: float, origin: float) -> Iterator[float]:
        """Epoch seconds the schedule fires at in ``(after, until]``; ``origin``: when a rate started counting."""
        if until <= after:
            return
        if self.rate_s is not None:
            yield from self._rate_times(after, until, origin, self.rate_s)
            return
        for moment in self._cron_moments(after, until):
            if moment > until:
                return
            if moment > after:
                yield moment

    @staticmethod
    def _rate_times(after: float, until: float, origin: float, rate_s: float) -> Iterator[float]:
        """``rate(...)``: every ``rate_s`` from ``origin``, in ``(after, until]``."""
        k = max(1, int((after - origin) // rate_s) + 1)
        while origin + k * rate_s <= until:
            moment = origin + k * rate_s
            if moment > after:
                yield moment
            k += 1

    def _cron_moments(self, after: float, until: float) -> Iterator[float]:
        """``cron(...)``: every matching minute of the matching days from ``after``'s day to ``until``'s, in order."""
        minutes = sorted(self.minutes if self.minutes is not None else range(60))
        hours = sorted(self.hours if self.hours is not None else range(24))
        day = datetime.fromtimestamp(after, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        last = datetime.fromtimestamp(until, UTC)
        while day <= last:
            if self._day_matches(day):
                yield from (day.replace(hour=hour, minute=minute).timestamp() for hour in hours for minute in minutes)
            day += timedelta(days=1)

    def next_times(self, after: float, origin: float, count: int, horizon_s: float = 400 * 86400) -> list[float]:
        """The next ``count`` fire times after ``after`` (within ``horizon_s``; fewer if the schedule ends)."""
        found: list[float] = []
        for moment in self.fire_times(after, after + horizon_s, origin):
            found.append(moment)
            if len(found) >= count:
                break
        return found


def parse(expression: str, timezone: str | None = None) -> Schedule:
    """Parse a backup rule's ScheduleExpression (:class:`ScheduleError` with the reason when it cannot)."""
    if (timezone or "") not in UTC_ZONES:
        raise ScheduleError(f"ScheduleExpressionTimezone {timezone!r}: only UTC is modelled by the embedded target")
    text = expression.strip()
    rate = RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1:
            raise ScheduleError(f"{expression}: the rate must be at least 1 {unit}")
        return Schedule(text, rate_s=float(value * UNIT_SECONDS[unit]))
    cron = CRON.match(text)
    if not cron:
        raise ScheduleError(
            f"{expression!r} is not a schedule expression: use cron(minutes hours day-of-month month day-of-week year)"
            " or rate(N hours)"
        )
    minute, hour, dom, month, dow, year = cron.groups()
    if dom != "?" and dow != "?":
        raise ScheduleError(f"{expression}: one of day-of-month and day-of-week must be '?'")
    return Schedule(
        text,
        minutes=_field(minute, 0, 59, None, "minutes"),
        hours=_field(hour, 0, 23, None, "hours"),
        days=_field(dom, 1, 31, None, "day-of-month"),
        months=_field(month, 1, 12, MONTHS, "month"),
        weekdays=_field(dow, 1, 7, WEEKDAYS, "day-of-week"),
        years=_field(year, 1970, 2199, None, "year"),
    )

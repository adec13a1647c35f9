"""The clinic calendar: local dates, open weekdays, closures and public holidays."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

MAX_SEARCH_DAYS = 366


class CalendarConfigError(ValueError):
    """A calendar setting is invalid; `field` names it (timezone, open_weekdays, ...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _supported() -> dict[str, frozenset[str]]:
    return {
        country: frozenset(subdivs)
        for country, subdivs in holidays.list_supported_countries().items()
    }


def validate_timezone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or CalendarConfigError."""
    if name not in _timezones():
        raise CalendarConfigError("timezone", f"unknown IANA time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unloadable
        raise CalendarConfigError("timezone", f"unknown IANA time zone {name!r}") from None


def parse_region(region: str) -> tuple[str, str | None]:
    """Split `CA-BC` into (`CA`, `BC`) and `DE` into (`DE`, None), checking both are supported."""
    country, _, subdiv = region.partition("-")
    supported = _supported()
    if country not in supported:
        raise CalendarConfigError("holiday_region", f"unsupported country code {country!r}")
    if subdiv and subdiv not in supported[country]:
        raise CalendarConfigError(
            "holiday_region", f"unsupported subdivision {subdiv!r} of {country}"
        )
    if not subdiv and "-" in region:
        raise CalendarConfigError("holiday_region", f"malformed region {region!r}")
    return country, subdiv or None


def validate_weekdays(weekdays: Iterable[int]) -> frozenset[int]:
    """Mon=0 .. Sun=6, at least one."""
    days = list(weekdays)
    if not days:
        raise CalendarConfigError("open_weekdays", "at least one open weekday is required")
    if any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise CalendarConfigError("open_weekdays", "weekdays are integers 0 (Mon) to 6 (Sun)")
    if len(set(days)) != len(days):
        raise CalendarConfigError("open_weekdays", "weekdays must not repeat")
    return frozenset(days)


class ClinicCalendar:
    """When a clinic is open, in its own time zone."""

    def __init__(
        self,
        timezone: str,
        open_weekdays: Iterable[int],
        closures: Iterable[date] = (),
        holiday_region: str | None = None,
    ) -> None:
        self.zone = validate_timezone(timezone)
        self.open_weekdays = validate_weekdays(open_weekdays)
        self.closures = frozenset(closures)
        self.holiday_region = holiday_region
        self._region = parse_region(holiday_region) if holiday_region else None
        self._years: dict[int, holidays.HolidayBase] = {}

    def local_date(self, moment: datetime) -> date:
        """The clinic-local calendar date of an aware instant."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("local_date needs a timezone-aware datetime")
        return moment.astimezone(self.zone).date()

    def holiday_name(self, day: date) -> str | None:
        """The public holiday on `day` in the clinic's region, if any."""
        if self._region is None:
            return None
        table = self._years.get(day.year)
        if table is None:
            country, subdiv = self._region
            table = holidays.country_holidays(country, subdiv=subdiv, years=day.year)
            self._years[day.year] = table
        return table.get(day)

    def is_open(self, day: date) -> bool:
        """Open on an open weekday that is neither a closure nor a public holiday."""
        return (
            day.weekday() in self.open_weekdays
            and day not in self.closures
            and self.holiday_name(day) is None
        )

    def next_open(self, day: date) -> date:
        """`day` itself if open, else the first open day after it."""
        return self._search(day, timedelta(days=1))

    def previous_open(self, day: date) -> date:
        """`day` itself if open, else the last open day before it."""
        return self._search(day, timedelta(days=-1))

    def _search(self, day: date, step: timedelta) -> date:
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_open(day):
                return day
            day += step
        raise ValueError(f"no open day within {MAX_SEARCH_DAYS} days of {day}")


class ClinicCalendarColumns(Protocol):
    """What a clinic's calendar is built from: a clinic row, or plain columns of one."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def timezone(self) -> str: ...
    @property
    def open_weekdays(self) -> Sequence[int]: ...
    @property
    def closures(self) -> Sequence[str]: ...
    @property
    def holiday_region(self) -> str | None: ...


_CALENDARS: OrderedDict[tuple[str, int], ClinicCalendar] = OrderedDict()
CALENDAR_CACHE_SIZE = 512


def calendar_of(clinic: ClinicCalendarColumns) -> ClinicCalendar:
    """The clinic's calendar, cached per clinic version: holiday tables are costly."""
    return clinic_calendar(clinic.id, clinic.version, clinic.timezone, clinic.open_weekdays,
                           clinic.closures, clinic.holiday_region)


def clinic_calendar(clinic_id: str, version: int, timezone: str, open_weekdays: Sequence[int],
                    closures: Sequence[str], holiday_region: str | None) -> ClinicCalendar:
    """`calendar_of` from plain columns (a clinic's version changes with every edit)."""
    key = (clinic_id, version)
    found = _CALENDARS.get(key)
    if found is None:
        found = ClinicCalendar(timezone, open_weekdays,
                               [date.fromisoformat(d) for d in closures], holiday_region)
        _CALENDARS[key] = found
        if len(_CALENDARS) > CALENDAR_CACHE_SIZE:
            _CALENDARS.popitem(last=False)
    return found

"""The clinic calendar: open weekdays, closures, public holidays, local dates (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from scheduler.calendar import CalendarConfigError, ClinicCalendar, parse_region

WEEKDAYS = [0, 1, 2, 3, 4]


def vancouver(**kwargs: object) -> ClinicCalendar:
    options: dict = {"open_weekdays": WEEKDAYS, "holiday_region": "CA-BC"} | kwargs
    return ClinicCalendar("America/Vancouver", **options)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 11, 2), True, id="an-ordinary-monday-is-open"),
        pytest.param(date(2026, 11, 7), False, id="saturday-is-not-an-open-weekday"),
        pytest.param(date(2026, 9, 7), False, id="labour-day-is-a-bc-holiday"),
        pytest.param(date(2026, 2, 16), False, id="bc-family-day-is-a-holiday"),
        pytest.param(date(2026, 8, 3), False, id="bc-day-is-a-holiday"),
        pytest.param(date(2026, 12, 24), False, id="a-clinic-closure-is-closed"),
        pytest.param(date(2026, 12, 23), True, id="the-day-before-a-closure-is-open"),
    ],
)
def test_is_open_in_a_bc_clinic(day: date, expected: bool) -> None:
    calendar = vancouver(closures=[date(2026, 12, 24)])
    assert calendar.is_open(day) is expected


def test_family_day_is_not_a_holiday_in_a_clinic_without_a_region() -> None:
    calendar = ClinicCalendar("America/Vancouver", WEEKDAYS)
    assert calendar.is_open(date(2026, 2, 16))
    assert calendar.holiday_name(date(2026, 2, 16)) is None


def test_provincial_holidays_follow_the_subdivision() -> None:
    ontario = ClinicCalendar("America/Toronto", WEEKDAYS, holiday_region="CA-ON")
    # BC Day (first Monday of August) is BC-only; Ontario's Civic Holiday is not statutory.
    assert not vancouver().is_open(date(2026, 8, 3))
    assert ontario.holiday_name(date(2026, 9, 7)) is not None


def test_a_country_region_without_subdivision_is_accepted() -> None:
    assert parse_region("DE") == ("DE", None)
    assert parse_region("CA-BC") == ("CA", "BC")


@pytest.mark.parametrize(
    ("region", "needle"),
    [
        pytest.param("XX", "country", id="unknown-country"),
        pytest.param("CA-ZZ", "subdivision", id="unknown-province"),
        pytest.param("CA-", "malformed", id="dangling-dash"),
        pytest.param("ca-bc", "country", id="lower-case-is-not-a-code"),
    ],
)
def test_invalid_holiday_regions_are_rejected(region: str, needle: str) -> None:
    with pytest.raises(CalendarConfigError) as caught:
        vancouver(holiday_region=region)
    assert caught.value.field == "holiday_region"
    assert needle in caught.value.message


@pytest.mark.parametrize(
    ("weekdays", "message"),
    [
        pytest.param([], "at least one", id="no-open-days"),
        pytest.param([0, 7], "integers 0", id="weekday-out-of-range"),
        pytest.param([1, 1], "repeat", id="repeated-weekday"),
        pytest.param([True], "integers 0", id="booleans-are-not-weekdays"),
    ],
)
def test_invalid_open_weekdays_are_rejected(weekdays: list, message: str) -> None:
    with pytest.raises(CalendarConfigError, match=message):
        ClinicCalendar("America/Vancouver", weekdays)


def test_an_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(CalendarConfigError) as caught:
        ClinicCalendar("Mars/Olympus_Mons", WEEKDAYS)
    assert caught.value.field == "timezone"


def test_local_date_late_evening_in_vancouver_is_the_previous_utc_day() -> None:
    moment = datetime(2026, 11, 3, 6, 30, tzinfo=UTC)  # 22:30 on Nov 2 in Vancouver
    assert vancouver().local_date(moment) == date(2026, 11, 2)


def test_local_date_accepts_any_aware_offset() -> None:
    moment = datetime(2026, 11, 3, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert vancouver().local_date(moment) == date(2026, 11, 2)


def test_local_date_across_the_dst_change() -> None:
    calendar = vancouver()
    # DST ends 2026-11-01 at 02:00 local: 08:59 UTC is 01:59 PDT, 09:30 UTC is 01:30 PST.
    assert calendar.local_date(datetime(2026, 11, 1, 8, 59, tzinfo=UTC)) == date(2026, 11, 1)
    assert calendar.local_date(datetime(2026, 11, 1, 7, 30, tzinfo=UTC)) == date(2026, 11, 1)
    assert calendar.local_date(datetime(2026, 11, 1, 6, 59, tzinfo=UTC)) == date(2026, 10, 31)


def test_local_date_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        vancouver().local_date(datetime(2026, 11, 2, 12, 0))


def test_next_open_skips_the_weekend_and_a_holiday_monday() -> None:
    # Sat 2026-09-05 -> Sun -> Mon 7 (Labour Day) -> Tue 8.
    assert vancouver().next_open(date(2026, 9, 5)) == date(2026, 9, 8)


def test_previous_open_skips_backwards() -> None:
    assert vancouver().previous_open(date(2026, 9, 7)) == date(2026, 9, 4)


def test_an_open_day_is_its_own_next_and_previous_open_day() -> None:
    day = date(2026, 11, 4)
    assert vancouver().next_open(day) == day == vancouver().previous_open(day)


def test_a_clinic_closed_for_a_year_has_no_next_open_day() -> None:
    start = date(2026, 1, 1)
    closures = [start + timedelta(days=n) for n in range(400)]
    with pytest.raises(ValueError, match="no open day"):
        ClinicCalendar("UTC", [0, 1, 2, 3, 4, 5, 6], closures).next_open(start)

"""Business-time additions per second in the pure calendar (``sla.calendar``).

    .venv/bin/python bench/calendar_throughput.py [--additions 200000] [--runs 5] [--seed 7]

The calendar is the default desk's: 7x12 Asia/Shanghai (every day 09:00-21:00) with the shipped
2026 CN holidays and make-up workdays. The additions start at instants spread over 2026 (any
time of day, holidays included) and add a mix of durations: 70 % small (1-120 business minutes,
a response or a P1 resolution), 20 % up to a business day (121-720), 10 % multi-day (721-7200,
up to ten business days, e.g. across the National Day week). Each run times ``--additions``
calls of ``calendar.add_business_minutes``; the script prints every run and the median, and
checks a sample of the results by measuring them back (``business_minutes_between``).

Two figures: **warm**, one calendar object for the whole run (a long-lived worker: the per-date
working intervals are memoised on the calendar), and **cold**, a fresh calendar every 200
additions (the scan handles at most 200 clocks per job and loads the rulebook once per unit of
work). Target: above 100,000 additions/s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from closeloop.sla.calendar import (
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    seven_by_twelve,
)
from closeloop.sla.holidays import load_bundled_schedule

TARGET_PER_SECOND = 100_000.0
COLD_BATCH = 200
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_SECONDS = 365 * 24 * 3600


def desk_calendar() -> BusinessCalendar:
    schedule = load_bundled_schedule("CN", 2026)
    if schedule is None:
        raise SystemExit("the CN 2026 schedule is not shipped")
    return seven_by_twelve("Asia/Shanghai").with_schedule(schedule)


def workload(count: int, seed: int) -> list[tuple[datetime, float]]:
    rng = random.Random(seed)
    cases: list[tuple[datetime, float]] = []
    for _ in range(count):
        # Stop ten business days before the year ends: the 2027 schedule is not shipped yet.
        start = YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS - 20 * 86400))
        draw = rng.random()
        if draw < 0.7:
            minutes = float(rng.randint(1, 120))
        elif draw < 0.9:
            minutes = float(rng.randint(121, 720))
        else:
            minutes = float(rng.randint(721, 7200))
        cases.append((start, minutes))
    return cases


def timed_run(cases: list[tuple[datetime, float]], *, cold: bool) -> tuple[float, list[datetime]]:
    """Additions per second, and the results (to check)."""
    calendar = desk_calendar()
    results: list[datetime] = []
    append = results.append
    started = time.perf_counter()
    if cold:
        for offset in range(0, len(cases), COLD_BATCH):
            calendar = desk_calendar()
            for start, minutes in cases[offset : offset + COLD_BATCH]:
                append(add_business_minutes(calendar, start, minutes))
    else:
        for start, minutes in cases:
            append(add_business_minutes(calendar, start, minutes))
    elapsed = time.perf_counter() - started
    return len(cases) / elapsed, results


def check(cases: list[tuple[datetime, float]], results: list[datetime], seed: int) -> int:
    """Measure a sample of the results back; returns how many were checked."""
    calendar = desk_calendar()
    rng = random.Random(seed + 1)
    sample = rng.sample(range(len(cases)), min(2000, len(cases)))
    for index in sample:
        start, minutes = cases[index]
        measured = business_minutes_between(calendar, start, results[index])
        if abs(measured - minutes) > 1e-6:
            raise SystemExit(f"wrong result for {start} + {minutes} min: {measured} min measured")
    return len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--additions", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()

    cases = workload(options.additions, options.seed)
    small = sum(1 for _, minutes in cases if minutes <= 120)
    multi_day = sum(1 for _, minutes in cases if minutes > 720)
    print(
        f"calendar: 7x12 Asia/Shanghai with the CN 2026 holidays and make-up workdays\n"
        f"workload: {len(cases):,} additions ({small:,} of 1-120 min, "
        f"{len(cases) - small - multi_day:,} of 121-720 min, {multi_day:,} of 721-7200 min), "
        f"seed {options.seed}"
    )
    figures: dict[str, float] = {}
    for label, cold in (("warm", False), ("cold", True)):
        rates: list[float] = []
        for _ in range(options.runs):
            rate, results = timed_run(cases, cold=cold)
            rates.append(rate)
        checked = check(cases, results, options.seed)
        figures[label] = statistics.median(rates)
        runs = ", ".join(f"{rate:,.0f}" for rate in rates)
        print(
            f"  {label:<4} (calendar {'rebuilt every 200' if cold else 'reused'}): "
            f"median {figures[label]:>10,.0f} additions/s  (runs: {runs}; "
            f"{checked:,} results measured back)"
        )
    verdict = "PASS" if min(figures.values()) > TARGET_PER_SECOND else "MISS"
    print(
        f"target > {TARGET_PER_SECOND:,.0f}/s: {verdict} "
        f"(warm {figures['warm']:,.0f}/s, cold {figures['cold']:,.0f}/s)"
    )


if __name__ == "__main__":
    main()

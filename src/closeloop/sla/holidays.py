"""Holiday schedules shipped with closeloop (package data in ``sla/data/<region>-<year>.json``).

A year is shipped only once its official notice is published and checked; ``None`` means "not
shipped", never "no holidays". Each file names its source.
"""

from __future__ import annotations

import re
from importlib.resources import files

from closeloop.sla.calendar import HolidaySchedule, parse_holiday_file

_REGION = re.compile(r"[A-Za-z]{2,8}")


def load_bundled_schedule(region: str, year: int) -> HolidaySchedule | None:
    """The shipped schedule of ``region`` (e.g. ``"CN"``) for ``year``, or ``None``."""
    if not _REGION.fullmatch(region):
        raise ValueError(f"region {region!r} must be 2 to 8 letters, such as 'CN'")
    resource = files("closeloop.sla").joinpath("data").joinpath(f"{region.lower()}-{year}.json")
    if not resource.is_file():
        return None
    return parse_holiday_file(resource.read_text(encoding="utf-8"))

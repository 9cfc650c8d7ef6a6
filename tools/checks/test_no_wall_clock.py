from __future__ import annotations

import pytest

from tools.checks.core import run_check
from tools.checks.rules import no_wall_clock

SERVICE = "src/closeloop/sla/service.py"


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import UTC, datetime\nx = datetime.now(UTC)\n",
        "from datetime import datetime\nx = datetime.utcnow()\n",
        "from datetime import datetime as dt\nx = dt.today()\n",
        "import datetime\nx = datetime.datetime.now(datetime.UTC)\n",
        "from datetime import date\nx = date.today()\n",
        "import datetime as d\nx = d.date.today()\n",
        "import time\nx = time.time()\n",
        "from time import time\nx = time()\n",
        "from datetime import datetime\nx = datetime(2025, 1, 1)\n",
        "import datetime\nx = datetime.datetime(2025, 1, 1, 9, 30)\n",
    ],
)
def test_wall_clock_and_naive_datetimes_are_reported(source: str) -> None:
    findings = run_check(no_wall_clock.check, source, SERVICE)
    assert [(f.line, f.code) for f in findings] == [(2, "CL002")]


@pytest.mark.parametrize(
    "source",
    [
        "def due(clock):\n    return clock.now()\n",
        "from datetime import UTC, datetime\nx = datetime(2025, 1, 1, tzinfo=UTC)\n",
        "from datetime import UTC, datetime\nx = datetime(2025, 1, 1, 0, 0, 0, 0, UTC)\n",
        "from datetime import datetime\nx = datetime.fromisoformat('2025-01-01T00:00+08:00')\n",
        "import time\nx = time.monotonic()\n",
        "from datetime import date\nx = date(2025, 1, 1)\n",
    ],
)
def test_clock_injection_and_aware_datetimes_are_fine(source: str) -> None:
    assert run_check(no_wall_clock.check, source, SERVICE) == []


def test_the_clock_module_may_read_the_wall_clock() -> None:
    source = "from datetime import UTC, datetime\nx = datetime.now(UTC)\ny = datetime(2025, 1, 1)\n"
    assert run_check(no_wall_clock.check, source, "src/closeloop/kit/clock.py") == []
    assert len(run_check(no_wall_clock.check, source, "src/closeloop/kit/ids.py")) == 2

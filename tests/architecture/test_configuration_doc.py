"""docs/configuration.md lists every setting of ``closeloop.config.Settings`` (DESIGN.md §2.8)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from closeloop.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = REPO_ROOT / "tools" / "gen_config_docs.py"
CONFIG_DOC = REPO_ROOT / "docs" / "configuration.md"
# The variables operators and CI rely on by name: renaming one breaks installations.
CONTRACT = (
    "CLOSELOOP_DATABASE_URL",
    "CLOSELOOP_SECRET_KEY",
    "CLOSELOOP_HOST",
    "CLOSELOOP_PORT",
    "CLOSELOOP_DATA_DIR",
    "CLOSELOOP_REDIS_URL",
)


def test_configuration_doc_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_setting_has_a_description() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []


def test_contract_variables_are_settings_and_documented() -> None:
    page = CONFIG_DOC.read_text(encoding="utf-8")
    settings = {f"CLOSELOOP_{name.upper()}" for name in Settings.model_fields}
    assert [name for name in CONTRACT if name not in settings] == []
    assert [name for name in CONTRACT if f"| `{name}` |" not in page] == []

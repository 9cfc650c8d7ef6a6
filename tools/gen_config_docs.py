"""Write the settings table of docs/configuration.md from ``closeloop.config.Settings``.

    .venv/bin/python tools/gen_config_docs.py            rewrite the table in place
    .venv/bin/python tools/gen_config_docs.py --check    exit 1 if the page is out of date

Only the part between the two marker comments is generated; the prose around it is written by
hand. ``tests/architecture/test_configuration_doc.py`` runs the check mode.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import SecretStr

from closeloop.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DOC = REPO_ROOT / "docs" / "configuration.md"
BEGIN = "<!-- BEGIN GENERATED: settings (tools/gen_config_docs.py) -->"
END = "<!-- END GENERATED: settings -->"
HEADER = (
    "| environment variable | type | default | description |",
    "|---|---|---|---|",
)
_SIMPLE_TYPES: dict[Any, str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "text",
    Path: "path",
    SecretStr: "secret",
}


def code(text: str) -> str:
    """Inline code. Values with a slash get double backticks, which the docs-path test skips:
    a default such as a URL is not a repository path."""
    if "`" in text or "/" in text:
        return f"`` {text} ``"
    return f"`{text}`"


def describe_type(annotation: Any) -> str:
    origin = get_origin(annotation)
    arguments = get_args(annotation)
    if origin is Literal:
        return "one of " + ", ".join(code(str(value)) for value in arguments)
    if origin in (Union, types.UnionType):
        present = [argument for argument in arguments if argument is not type(None)]
        described = " or ".join(describe_type(argument) for argument in present)
        return f"{described}, optional" if len(present) < len(arguments) else described
    if origin in (tuple, list, set, frozenset):
        item = describe_type(arguments[0]) if arguments else "value"
        return f"list of {item} (a JSON array)"
    return _SIMPLE_TYPES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def describe_default(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "empty" if not value.get_secret_value() else "set (not shown)"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return code("true" if value else "false")
    if isinstance(value, int) and value >= 1024 and value % 1024 == 0:
        return f"{code(str(value))} ({_binary_size(value)})"
    if isinstance(value, tuple | list | set | frozenset):
        return code(", ".join(str(item) for item in value))
    text = str(value)
    return code(text) if text else "empty"


def _binary_size(value: int) -> str:
    for unit in ("KiB", "MiB", "GiB"):
        value //= 1024
        if value < 1024 or value % 1024:
            return f"{value} {unit}"
    return f"{value} TiB"


def escape(text: str) -> str:
    """Table cell text: pipes escaped, ``<`` outside code spans too (``<a@b.cn>`` stays text)."""
    parts = text.replace("|", "\\|").split("`")
    return "`".join(
        part if index % 2 else part.replace("<", "&lt;") for index, part in enumerate(parts)
    )


def env_name(field_name: str) -> str:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    return (prefix + field_name).upper()


def table() -> str:
    rows = list(HEADER)
    for name, field in Settings.model_fields.items():
        description = escape(field.description or "")
        rows.append(
            f"| {code(env_name(name))} | {describe_type(field.annotation)} "
            f"| {describe_default(field.default)} | {description} |"
        )
    return "\n".join(rows)


def updated(page: str) -> str:
    """``page`` with the text between the markers replaced by the current table."""
    start = page.find(BEGIN)
    stop = page.find(END)
    if start < 0 or stop < start:
        raise ValueError(f"{CONFIG_DOC.name} lacks the markers {BEGIN!r} … {END!r}")
    return page[: start + len(BEGIN)] + "\n" + table() + "\n" + page[stop:]


def main(argv: Sequence[str]) -> int:
    check = "--check" in argv
    page = CONFIG_DOC.read_text(encoding="utf-8")
    fresh = updated(page)
    if check:
        if fresh != page:
            print(
                f"{CONFIG_DOC.relative_to(REPO_ROOT)} is out of date with closeloop.config."
                "Settings: run .venv/bin/python tools/gen_config_docs.py",
                file=sys.stderr,
            )
            return 1
        return 0
    if fresh != page:
        CONFIG_DOC.write_text(fresh, encoding="utf-8")
        print(f"updated {CONFIG_DOC.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

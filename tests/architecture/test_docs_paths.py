"""Every repository path quoted in backticks in the docs exists (DESIGN.md §2.8)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL_DOCS = ("README.md", "CONTEXT.md", "CONTRIBUTING.md")
# Where a quoted path may be rooted: the repository, the package, src/.
BASES = (REPO_ROOT, REPO_ROOT / "src" / "closeloop", REPO_ROOT / "src")

INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCE = re.compile(r"^\s*(```|~~~)")
PATH_SUFFIXES = (".py", ".md", ".toml", ".ini", ".cfg")
# URL paths of the app (API, pages, static files) are routes, not files of the repository.
NOT_PATH_PREFIXES = (
    "http",
    "-",
    "$",
    "/api/",
    "/healthz",
    "/readyz",
    "/agent",
    "/admin",
    "/account",
    "/forms/",
    "/t/",
    "/login",
    "/logout",
    "/live/",
    "/static/",
)
NOT_PATH_MARKERS = ("<", "*", "{", "://")  # "://": a URL of any scheme (postgresql://...)
LINE_SUFFIX = re.compile(r"(#.*|:\d+(-\d+)?)$")  # file.py:12, file.md#anchor


def doc_files() -> list[Path]:
    files = [REPO_ROOT / name for name in TOP_LEVEL_DOCS]
    files += sorted((REPO_ROOT / "docs").rglob("*.md"))
    return [path for path in files if path.is_file()]


def looks_like_path(token: str) -> bool:
    return (
        not any(character.isspace() for character in token)
        and not token.startswith(NOT_PATH_PREFIXES)
        and not any(marker in token for marker in NOT_PATH_MARKERS)
        and ("/" in token or token.endswith(PATH_SUFFIXES))
    )


def quoted_paths(markdown: str) -> Iterator[tuple[int, str]]:
    """(line number, path) for each backticked path outside fenced code blocks."""
    in_fence = False
    for number, line in enumerate(markdown.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for match in INLINE_CODE.finditer(line):
            token = match.group(1).strip()
            if looks_like_path(token):
                yield number, token


def exists(token: str) -> bool:
    relative = LINE_SUFFIX.sub("", token).removeprefix("./").lstrip("/")
    return any((base / relative).exists() for base in BASES)


def test_quoted_paths_exist() -> None:
    missing = [
        f"{doc.relative_to(REPO_ROOT)}:{number}: `{token}`"
        for doc in doc_files()
        for number, token in quoted_paths(doc.read_text(encoding="utf-8"))
        if not exists(token)
    ]
    assert not missing, "paths quoted in the docs that do not exist:\n" + "\n".join(missing)


def test_the_path_finder_recognises_paths_and_skips_the_rest() -> None:
    markdown = "\n".join(
        [
            "See `src/closeloop/kit/clock.py`, `pyproject.toml` and `docs/adr/`.",
            "Not paths: `make check`, `closeloop.tickets`, `https://example.org/a`, `--help`,",
            "`$HOME/x`, `/api/v1/tickets`, `/healthz`, `tests/unit/<feature>/`, `docs/*.md`,",
            "`/tickets/{id}`, ``double `tick` code``, `redis://localhost:6379/0`, `sqlite:///x.db`.",
            "```",
            "`inside/a/fence.py`",
            "```",
            "And `kit/clock.py:12`.",
        ]
    )
    assert list(quoted_paths(markdown)) == [
        (1, "src/closeloop/kit/clock.py"),
        (1, "pyproject.toml"),
        (1, "docs/adr/"),
        (8, "kit/clock.py:12"),
    ]
    assert exists("pyproject.toml")
    assert exists("kit/clock.py:12")  # relative to src/closeloop/, line number dropped
    assert exists("closeloop/kit")  # relative to src/
    assert not exists("docs/no-such-page.md")

"""Translation catalogues (zh_CN, en) and locale negotiation.

Catalogues are the ``.po`` files under ``closeloop/locale``; they are read directly with Babel, so
no compile step is needed at install time. Strings are marked with :func:`_`, which returns a
:class:`LazyString` rendered in the reader's locale when it is finally shown.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

SUPPORTED_LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


class LazyString:
    """A message id that is translated only when a locale is known."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def render(self, locale: str | None = None, /, **params: Any) -> str:
        text = translate(self.message, locale or DEFAULT_LOCALE)
        return text.format(**params) if params else text

    def __str__(self) -> str:
        return self.render(DEFAULT_LOCALE)

    def __repr__(self) -> str:
        return f"_({self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LazyString) and other.message == self.message

    def __hash__(self) -> int:
        return hash(self.message)


def _(message: str) -> LazyString:
    """Mark ``message`` for translation (extracted by ``make i18n``)."""
    return LazyString(message)


@cache
def catalogue(locale: str) -> dict[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    return {
        str(entry.id): str(entry.string)
        for entry in parsed
        if entry.id and entry.string and not entry.fuzzy and isinstance(entry.id, str)
    }


def translate(message: str, locale: str) -> str:
    return catalogue(normalise_locale(locale)).get(message, message)


def normalise_locale(value: str | None) -> str:
    """Map any spelling (``zh``, ``zh-CN``, ``zh_Hans``, ``en-US``) onto a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    tag = value.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def negotiate_locale(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Pick the best supported locale from an ``Accept-Language`` header."""
    if not accept_language:
        return normalise_locale(default)
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, position, tag.strip()))
    for negative_quality, _position, tag in sorted(weighted):
        if negative_quality >= 0:
            break
        lowered = tag.lower()
        if lowered.startswith(("zh", "en")):
            return normalise_locale(tag)
    return normalise_locale(default)

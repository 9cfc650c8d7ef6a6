"""What a CRM lookup asks and what its answer means (pure: no I/O).

- The address comes from the admin's template: ``{email}``, ``{phone}``, ``{external_id}`` and
  ``{name}`` are replaced by the customer's values, URL-encoded (an unknown value is empty).
- The answer is JSON. ``tier_path`` and ``company_path`` point into it, as a JSON pointer
  (``/data/0/level``) or dotted (``data.0.level``). The tier found is mapped through
  ``tier_values`` (``{"gold": "vip"}``, case-insensitive); ``vip`` and ``standard`` are taken
  as they are; anything else leaves the customer's tier alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

PLACEHOLDERS = ("email", "phone", "external_id", "name")
TIERS = ("standard", "vip")
MAX_COMPANY_NAME = 200
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What the CRM says about a customer; None where it says nothing usable."""

    tier: str | None = None
    company: str | None = None
    raw_tier: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.tier is None and self.company is None


def template_problems(template: str) -> list[str]:
    """Why ``template`` cannot be used (empty list: it can)."""
    problems: list[str] = []
    try:
        parts = urlsplit(_PLACEHOLDER.sub("x", template))
    except ValueError:  # "http://[::1" and the like: urlsplit refuses it
        return ["the address is not a valid URL"]
    if parts.scheme not in ("http", "https"):
        problems.append("the address must start with http:// or https://")
    elif not parts.hostname:
        problems.append("the address has no host")
    unknown = sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})
    if unknown:
        problems.append("unknown placeholders: " + ", ".join("{" + n + "}" for n in unknown))
    return problems


def lookup_url(template: str, values: Mapping[str, str | None]) -> str:
    """The template with each placeholder replaced by its URL-encoded value."""

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1)) or ""
        return quote(value, safe="")

    return _PLACEHOLDER.sub(replace, template)


def resolve_path(document: Any, path: str) -> Any:
    """The value at ``path`` in ``document``, or None when there is none."""
    path = path.strip()
    if not path:
        return None
    if path.startswith("/"):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]
    else:
        parts = path.split(".")
    current = document
    for part in parts:
        if isinstance(current, Mapping):
            if part not in current:
                return None
            current = current[part]
        elif isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                return None
            current = current[int(part)]
        else:
            return None
    return current


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def map_tier(raw: str | None, tier_values: Mapping[str, str]) -> str | None:
    if raw is None:
        return None
    mapping = {key.strip().lower(): value for key, value in tier_values.items()}
    mapped = mapping.get(raw.lower(), raw.lower())
    return mapped if mapped in TIERS else None


def enrichment_of(
    document: Any,
    *,
    tier_path: str,
    tier_values: Mapping[str, str],
    company_path: str,
) -> Enrichment:
    raw_tier = _scalar_text(resolve_path(document, tier_path))
    company = _scalar_text(resolve_path(document, company_path))
    return Enrichment(
        tier=map_tier(raw_tier, tier_values),
        company=company[:MAX_COMPANY_NAME] if company else None,
        raw_tier=raw_tier,
    )

"""Who is acting, and what a role may do in general (pure)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    agent = "agent"


class CustomerTier(enum.StrEnum):
    standard = "standard"
    vip = "vip"


class IdentityKind(enum.StrEnum):
    email = "email"
    phone = "phone"
    wechat_openid = "wechat_openid"
    external_id = "external_id"


class PrincipalKind(enum.StrEnum):
    agent = "agent"
    customer = "customer"
    system = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a use case, with what access decisions need to know."""

    kind: PrincipalKind
    id: int | None
    name: str = ""
    role: Role | None = None
    team_ids: frozenset[int] = field(default_factory=frozenset)
    led_team_ids: frozenset[int] = field(default_factory=frozenset)
    company_id: int | None = None
    is_company_admin: bool = False
    locale: str = "en"
    time_zone: str = "UTC"

    @property
    def is_agent(self) -> bool:
        return self.kind is PrincipalKind.agent

    @property
    def is_customer(self) -> bool:
        return self.kind is PrincipalKind.customer

    @property
    def is_admin(self) -> bool:
        return self.kind is PrincipalKind.system or self.role is Role.admin

    @property
    def sees_all_tickets(self) -> bool:
        return self.is_admin or self.role is Role.supervisor

    @property
    def key(self) -> str:
        """A stable string naming the caller, used to scope idempotency keys."""
        return f"{self.kind.value}:{self.id}"


SYSTEM = Principal(kind=PrincipalKind.system, id=None, name="system")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_KEEP = re.compile(r"[^\d+]")


def normalise_identity(kind: IdentityKind, value: str) -> str:
    """The canonical form an identity is stored and looked up in."""
    text = value.strip()
    if kind is IdentityKind.email:
        return text.lower()
    if kind is IdentityKind.phone:
        digits = _PHONE_KEEP.sub("", text)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        # Mainland numbers without a country code are the common case for our first users.
        if not digits.startswith("+") and len(digits) == 11 and digits.startswith("1"):
            digits = "+86" + digits
        return digits
    return text


def is_valid_identity(kind: IdentityKind, value: str) -> bool:
    normalised = normalise_identity(kind, value)
    if kind is IdentityKind.email:
        return bool(_EMAIL.match(normalised)) and len(normalised) <= 254
    if kind is IdentityKind.phone:
        digits = normalised.lstrip("+")
        return digits.isdigit() and 5 <= len(digits) <= 16
    return 0 < len(normalised) <= 128

"""Pydantic shapes of the accounts feature on the wire (shared by api/ and web/).

Inputs refuse unknown fields. In the ``*Update`` shapes only the fields present change; null is
accepted only where it clears something (a team's lead, a customer's company).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from closeloop.accounts.domain import CustomerTier, IdentityKind, Role
from closeloop.accounts.models import (
    Agent,
    ApiToken,
    Company,
    Customer,
    CustomerIdentity,
    Organisation,
    Skill,
    Team,
)
from closeloop.kit.schemas import PartialUpdate, Strict

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
OptionalName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
# Checked by the service, so a bad value gets a stable problem code (customer.invalid_identity).
IdentityText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)
]
EmailText = IdentityText
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# Checked against the zoneinfo database by the service (account.invalid_time_zone).
TimeZoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
DomainText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253)]
Locale = Literal["zh_CN", "en"]
SkillLevel = Annotated[int, Field(ge=1, le=5, description="1 (beginner) to 5 (expert)")]


# --- organisation -------------------------------------------------------------------------


class OrganisationUpdate(PartialUpdate):
    name: Name | None = None
    default_locale: Locale | None = None
    time_zone: TimeZoneText | None = None


class OrganisationRead(BaseModel):
    id: int
    name: str
    default_locale: str
    time_zone: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationRead:
        return cls(
            id=organisation.id,
            name=organisation.name,
            default_locale=organisation.default_locale,
            time_zone=organisation.time_zone,
            created_at=organisation.created_at,
            updated_at=organisation.updated_at,
        )


# --- agents -------------------------------------------------------------------------------


class AgentCreate(Strict):
    name: Name
    email: EmailText
    role: Role = Role.agent
    password: Password | None = Field(
        None, description="Leave out to create an agent who signs in only once one is set."
    )
    locale: Locale | None = Field(None, description="Defaults to the organisation's.")
    time_zone: TimeZoneText | None = Field(None, description="Defaults to the organisation's.")
    is_senior: bool = False


class AgentUpdate(PartialUpdate):
    """Admins change any field; agents change their own name, locale and time zone."""

    name: Name | None = None
    email: EmailText | None = None
    role: Role | None = None
    locale: Locale | None = None
    time_zone: TimeZoneText | None = None
    is_active: bool | None = Field(
        None, description="false deactivates: the agent's API tokens and sessions are revoked."
    )
    is_senior: bool | None = None


class PasswordChange(Strict):
    new_password: Password
    current_password: Password | None = Field(
        None, description="Required when you change your own password."
    )


class SkillLevelRead(BaseModel):
    skill_id: int
    level: int


class AgentRead(BaseModel):
    """An agent as others see them; the password hash never leaves the service."""

    id: int
    name: str
    email: str
    role: Role
    locale: str
    time_zone: str
    is_active: bool
    is_senior: bool
    team_ids: list[int]
    skills: list[SkillLevelRead]
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, agent: Agent, *, team_ids: Sequence[int], skills: Mapping[int, int]) -> AgentRead:
        return cls(
            id=agent.id,
            name=agent.name,
            email=agent.email,
            role=Role(agent.role),
            locale=agent.locale,
            time_zone=agent.time_zone,
            is_active=agent.is_active,
            is_senior=agent.is_senior,
            team_ids=sorted(team_ids),
            skills=[SkillLevelRead(skill_id=k, level=v) for k, v in sorted(skills.items())],
            created_at=agent.created_at,
            updated_at=agent.updated_at,
            last_login_at=agent.last_login_at,
        )


class AgentPage(BaseModel):
    items: list[AgentRead]
    next_cursor: str | None


# --- teams --------------------------------------------------------------------------------


class TeamCreate(Strict):
    name: ShortName
    description: LongText = ""
    email: EmailText | None = None
    lead_id: int | None = Field(None, description="The lead becomes a member too.")


class TeamUpdate(PartialUpdate):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"email", "lead_id"})

    name: ShortName | None = None
    description: LongText | None = None
    email: EmailText | None = None
    lead_id: int | None = Field(None, description="The lead becomes a member; null clears.")
    is_active: bool | None = None


class TeamRead(BaseModel):
    id: int
    name: str
    description: str
    email: str | None
    lead_id: int | None
    is_active: bool
    member_ids: list[int]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, team: Team, *, member_ids: Sequence[int]) -> TeamRead:
        return cls(
            id=team.id,
            name=team.name,
            description=team.description,
            email=team.email,
            lead_id=team.lead_id,
            is_active=team.is_active,
            member_ids=sorted(member_ids),
            created_at=team.created_at,
            updated_at=team.updated_at,
        )


# --- skills -------------------------------------------------------------------------------


class SkillCreate(Strict):
    name: ShortName
    description: LongText = ""


class SkillUpdate(PartialUpdate):
    name: ShortName | None = None
    description: LongText | None = None


class SkillRead(BaseModel):
    id: int
    name: str
    description: str
    created_at: datetime

    @classmethod
    def of(cls, skill: Skill) -> SkillRead:
        return cls(
            id=skill.id, name=skill.name, description=skill.description, created_at=skill.created_at
        )


class AgentSkillSet(Strict):
    level: SkillLevel


class AgentSkillRead(BaseModel):
    agent_id: int
    skill_id: int
    level: int


# --- companies ----------------------------------------------------------------------------


class CompanyCreate(Strict):
    name: Name
    domain: DomainText | None = Field(None, description="Email domain, e.g. example.com")
    tier: CustomerTier = CustomerTier.standard
    notes: LongText = ""


class CompanyUpdate(PartialUpdate):
    nullable_fields: ClassVar[frozenset[str]] = frozenset({"domain"})

    name: Name | None = None
    domain: DomainText | None = None
    tier: CustomerTier | None = None
    notes: LongText | None = None


class CompanyRead(BaseModel):
    id: int
    name: str
    domain: str | None
    tier: CustomerTier
    notes: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, company: Company) -> CompanyRead:
        return cls(
            id=company.id,
            name=company.name,
            domain=company.domain,
            tier=CustomerTier(company.tier),
            notes=company.notes,
            created_at=company.created_at,
            updated_at=company.updated_at,
        )


class CompanyPage(BaseModel):
    items: list[CompanyRead]
    next_cursor: str | None


# --- customers ----------------------------------------------------------------------------


class CustomerCreate(Strict):
    name: OptionalName = Field("", description="Defaults to the first email's local part.")
    emails: Annotated[list[IdentityText], Field(max_length=20)] = []
    phones: Annotated[list[IdentityText], Field(max_length=20)] = []
    wechat_openid: IdentityText | None = None
    external_id: IdentityText | None = None
    company_id: int | None = None
    tier: CustomerTier = CustomerTier.standard
    is_company_admin: bool = False
    locale: Locale | None = None
    notes: LongText = ""

    @model_validator(mode="after")
    def _has_an_identity(self) -> Self:
        if not (self.emails or self.phones or self.wechat_openid or self.external_id):
            raise ValueError("give at least one email, phone, wechat_openid or external_id")
        return self

    def identities(self) -> list[tuple[IdentityKind, str]]:
        pairs = [(IdentityKind.email, value) for value in self.emails]
        pairs += [(IdentityKind.phone, value) for value in self.phones]
        if self.wechat_openid:
            pairs.append((IdentityKind.wechat_openid, self.wechat_openid))
        if self.external_id:
            pairs.append((IdentityKind.external_id, self.external_id))
        return pairs


class CustomerUpdate(PartialUpdate):
    """Agents change every field; a customer changes only their own name and locale."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"company_id", "locale"})

    name: Name | None = None
    company_id: int | None = None
    tier: CustomerTier | None = None
    is_company_admin: bool | None = None
    locale: Locale | None = None
    notes: LongText | None = None


class CustomerMerge(Strict):
    into_customer_id: int = Field(
        description="The customer who remains; this one's tickets and identities move to them."
    )


class IdentityCreate(Strict):
    kind: IdentityKind
    value: IdentityText
    is_primary: bool = Field(False, description="Make it the primary one of its kind.")


class IdentityRead(BaseModel):
    id: int
    kind: IdentityKind
    value: str
    is_primary: bool
    created_at: datetime

    @classmethod
    def of(cls, identity: CustomerIdentity) -> IdentityRead:
        return cls(
            id=identity.id,
            kind=IdentityKind(identity.kind),
            value=identity.value,
            is_primary=identity.is_primary,
            created_at=identity.created_at,
        )


class IdentityGroups(BaseModel):
    """A customer's identities by kind, the primary one of each kind first."""

    email: list[IdentityRead] = []
    phone: list[IdentityRead] = []
    wechat_openid: list[IdentityRead] = []
    external_id: list[IdentityRead] = []

    @classmethod
    def of(cls, identities: Sequence[CustomerIdentity]) -> IdentityGroups:
        ordered = sorted(identities, key=lambda i: (not i.is_primary, i.id))
        groups: dict[str, list[IdentityRead]] = {kind.value: [] for kind in IdentityKind}
        for identity in ordered:
            groups[identity.kind].append(IdentityRead.of(identity))
        return cls.model_validate(groups)


class CustomerRead(BaseModel):
    id: int
    name: str
    company_id: int | None
    tier: CustomerTier
    is_company_admin: bool
    locale: str | None
    notes: str | None = Field(description="Agents' notes; null when a customer reads themself.")
    identities: IdentityGroups
    merged_into_id: int | None = Field(
        None, description="Set once this customer was merged into that one."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, customer: Customer, identities: Sequence[CustomerIdentity], *, with_notes: bool
    ) -> CustomerRead:
        return cls(
            id=customer.id,
            name=customer.name,
            company_id=customer.company_id,
            tier=CustomerTier(customer.tier),
            is_company_admin=customer.is_company_admin,
            locale=customer.locale,
            notes=customer.notes if with_notes else None,
            identities=IdentityGroups.of(identities),
            merged_into_id=customer.merged_into_id,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
        )


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    next_cursor: str | None


# --- API tokens ---------------------------------------------------------------------------


class ApiTokenCreate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    expires_at: AwareDatetime | None = None
    email: EmailText | None = Field(
        None, description="Admins only: create the token for the agent with this email."
    )


class ApiTokenRead(BaseModel):
    """A token as listed: only its first characters, never the secret."""

    id: int
    name: str
    prefix: str
    agent_id: int | None
    customer_id: int | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenRead:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.display_prefix,
            agent_id=token.agent_id,
            customer_id=token.customer_id,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


class ApiTokenCreated(ApiTokenRead):
    token: str = Field(description="The secret, shown this once: store it now.")

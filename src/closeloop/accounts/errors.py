"""Errors of the accounts feature."""

from __future__ import annotations

from closeloop.kit.errors import Conflict, DomainError, NotFound
from closeloop.kit.i18n import _


class AgentNotFound(NotFound):
    code = "agent.not_found"
    message = _("Agent {agent_id} does not exist.")


class TeamNotFound(NotFound):
    code = "team.not_found"
    message = _("Team {team_id} does not exist.")


class SkillNotFound(NotFound):
    code = "skill.not_found"
    message = _("Skill {skill_id} does not exist.")


class CustomerNotFound(NotFound):
    code = "customer.not_found"
    message = _("Customer {customer_id} does not exist.")


class CompanyNotFound(NotFound):
    code = "company.not_found"
    message = _("Company {company_id} does not exist.")


class EmailAlreadyUsed(Conflict):
    code = "agent.email_taken"
    title = _("Email already used")
    message = _("An agent with the email {email} already exists.")


class NameAlreadyUsed(Conflict):
    code = "account.name_taken"
    title = _("Name already used")
    message = _("The name {name} is already used.")


class IdentityAlreadyUsed(Conflict):
    code = "customer.identity_taken"
    title = _("Identity already used")
    message = _("The {kind} {value} already belongs to another customer.")


class InvalidIdentity(DomainError):
    code = "customer.invalid_identity"
    http_status = 422
    title = _("Invalid identity")
    message = _("{value} is not a valid {kind}.")


class AuthenticationFailed(DomainError):
    code = "auth.failed"
    http_status = 401
    title = _("Authentication failed")
    message = _("The email or password is wrong, or the account is disabled.")


class AuthenticationRequired(DomainError):
    code = "auth.required"
    http_status = 401
    title = _("Authentication required")
    message = _("Sign in or send a valid API token.")


class CsrfFailed(DomainError):
    code = "auth.csrf_failed"
    http_status = 403
    title = _("Request refused")
    message = _("The form expired or did not come from closeloop. Reload the page and try again.")


class WeakPassword(DomainError):
    code = "agent.weak_password"
    http_status = 422
    title = _("Password too weak")
    message = _("A password needs at least {minimum} characters.")

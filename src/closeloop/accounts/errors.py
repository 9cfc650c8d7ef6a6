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


# --- management of accounts ----------------------------------------------------------------


class LastAdminRequired(Conflict):
    code = "agent.last_admin"
    title = _("Last administrator")
    message = _(
        "{name} is the last active administrator. Make another agent an administrator first."
    )


class AgentInactive(Conflict):
    code = "agent.inactive"
    title = _("Agent deactivated")
    message = _("Agent {agent_id} is deactivated; reactivate them first.")


class CurrentPasswordRequired(DomainError):
    code = "agent.current_password_required"
    http_status = 422
    title = _("Current password required")
    message = _("To change your own password, give your current password too.")


class CurrentPasswordWrong(DomainError):
    code = "agent.current_password_wrong"
    http_status = 422
    title = _("Current password wrong")
    message = _("The current password is not correct.")


class InvalidSkillLevel(DomainError):
    code = "skill.invalid_level"
    http_status = 422
    title = _("Invalid skill level")
    message = _("A skill level is a whole number from {minimum} to {maximum}; {level} is not.")


class AgentSkillNotFound(NotFound):
    code = "agent_skill.not_found"
    message = _("Agent {agent_id} has no level for skill {skill_id}.")


class TeamLeadNotRemovable(Conflict):
    code = "team.lead_not_removable"
    title = _("Team lead")
    message = _("Agent {agent_id} leads the team {team}. Choose another lead before removing them.")


class IdentityNotFound(NotFound):
    code = "customer.identity_not_found"
    message = _("Customer {customer_id} has no identity {identity_id}.")


class LastIdentityRequired(Conflict):
    code = "customer.last_identity"
    title = _("Last identity")
    message = _(
        "{value} is the only way to recognise customer {customer_id}. Add another identity first."
    )


class CompanyRequired(DomainError):
    code = "customer.company_required"
    http_status = 422
    title = _("Company required")
    message = _("A company administrator must belong to a company.")


class CompanyInUse(Conflict):
    code = "company.in_use"
    title = _("Company in use")
    message = _("The company {name} still has {count} customers. Move them to another first.")


class InvalidCompanyDomain(DomainError):
    code = "company.invalid_domain"
    http_status = 422
    title = _("Invalid domain")
    message = _("{value} is not a valid domain name, such as example.com.")


class InvalidTimeZone(DomainError):
    code = "account.invalid_time_zone"
    http_status = 422
    title = _("Unknown time zone")
    message = _("{value} is not a known time zone; use a name such as Asia/Shanghai.")


class UnsupportedLocale(DomainError):
    code = "account.unsupported_locale"
    http_status = 422
    title = _("Unsupported language")
    message = _("{value} is not a supported language; use one of {supported}.")


class InvalidPageCursor(DomainError):
    code = "account.invalid_cursor"
    http_status = 422
    title = _("Invalid cursor")
    message = _("The cursor was not given out by this list. Start again without it.")


class ApiTokenNotFound(NotFound):
    code = "api_token.not_found"
    message = _("API token {token_id} does not exist.")


class TokenExpiryInPast(DomainError):
    code = "api_token.expiry_in_past"
    http_status = 422
    title = _("Expiry in the past")
    message = _("A new token must expire in the future.")


class UnknownTier(DomainError):
    code = "account.unknown_tier"
    http_status = 422
    title = _("Unknown tier")
    message = _("{value} is not a tier; use standard or vip.")


class CustomerMergeRefused(Conflict):
    code = "customer.merge_refused"
    title = _("Merge refused")
    message = _("Customer {source} cannot be merged into customer {target}: {reason}")


class CustomerMerged(Conflict):
    code = "customer.merged"
    title = _("Customer merged")
    message = _("Customer {customer_id} was merged into customer {survivor_id}; change that one.")


class IdentityRequired(DomainError):
    code = "customer.identity_required"
    http_status = 422
    title = _("Identity required")
    message = _("A customer needs at least one email, phone number, WeChat openid or external id.")

"""Use cases that manage accounts: agents, teams, skills, customers, companies, the
organisation and API tokens. Each checks permission (``permissions``), loads, validates,
persists and writes the audit trail in the same transaction, and never commits.

Callers alias the import: ``from closeloop.accounts import management``.
"""

from closeloop.accounts.management.agents import (
    change_password,
    create_agent,
    deactivate_agent,
    get_agent,
    list_agents,
    present_agents,
    update_agent,
)
from closeloop.accounts.management.companies import (
    create_company,
    delete_company,
    find_or_create_company,
    get_company,
    list_companies,
    update_company,
)
from closeloop.accounts.management.customers import (
    add_customer_identity,
    create_customer,
    get_customer,
    list_customer_identities,
    present_customers,
    remove_customer_identity,
    search_customers,
    update_customer,
)
from closeloop.accounts.management.merge import merge_customers
from closeloop.accounts.management.organisation import read_organisation, update_organisation
from closeloop.accounts.management.skills import (
    create_skill,
    delete_skill,
    get_agent_skill,
    get_skill,
    list_skills,
    remove_agent_skill,
    set_agent_skill,
    update_skill,
)
from closeloop.accounts.management.teams import (
    add_team_member,
    create_team,
    deactivate_team,
    get_team,
    list_teams,
    present_teams,
    remove_team_member,
    update_team,
)
from closeloop.accounts.management.tokens import issue_api_token, list_api_tokens, revoke_api_token
from closeloop.accounts.schemas import (
    AgentUpdate,
    CompanyUpdate,
    CustomerUpdate,
    OrganisationUpdate,
    SkillUpdate,
    TeamUpdate,
)

__all__ = [
    "AgentUpdate",
    "CompanyUpdate",
    "CustomerUpdate",
    "OrganisationUpdate",
    "SkillUpdate",
    "TeamUpdate",
    "add_customer_identity",
    "add_team_member",
    "change_password",
    "create_agent",
    "create_company",
    "create_customer",
    "create_skill",
    "create_team",
    "deactivate_agent",
    "deactivate_team",
    "delete_company",
    "delete_skill",
    "find_or_create_company",
    "get_agent",
    "get_agent_skill",
    "get_company",
    "get_customer",
    "get_skill",
    "get_team",
    "issue_api_token",
    "list_agents",
    "list_api_tokens",
    "list_companies",
    "list_customer_identities",
    "list_skills",
    "list_teams",
    "merge_customers",
    "present_agents",
    "present_customers",
    "present_teams",
    "read_organisation",
    "remove_agent_skill",
    "remove_customer_identity",
    "remove_team_member",
    "revoke_api_token",
    "search_customers",
    "set_agent_skill",
    "update_agent",
    "update_company",
    "update_customer",
    "update_organisation",
    "update_skill",
    "update_team",
]

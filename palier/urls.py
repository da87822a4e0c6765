"""The root URLconf. Every page lives in an interface package, ``palier/agent/`` (agents, managers,
admins) or ``palier/portal/`` (requesters and signed links); machine endpoints stay with the domain
that receives them (``palier/integrations/urls.py``: chat and alert webhooks). A domain's URL paths
and namespace do not depend on which interface serves them: ``_pages`` joins the lists of both."""

from collections.abc import Sequence

from django.urls import URLPattern, URLResolver, include, path

from palier.agent.urlconfs import assets as agent_assets
from palier.agent.urlconfs import assets_import as agent_assets_import
from palier.agent.urlconfs import assets_inventory as agent_assets_inventory
from palier.agent.urlconfs import assets_licences as agent_assets_licences
from palier.agent.urlconfs import audit as agent_audit
from palier.agent.urlconfs import automation as agent_automation
from palier.agent.urlconfs import cab as agent_cab
from palier.agent.urlconfs import catalog as agent_catalog
from palier.agent.urlconfs import change_calendar as agent_change_calendar
from palier.agent.urlconfs import changes as agent_changes
from palier.agent.urlconfs import identity as agent_identity
from palier.agent.urlconfs import identity_ldap as agent_identity_ldap
from palier.agent.urlconfs import identity_oidc as agent_identity_oidc
from palier.agent.urlconfs import identity_saml as agent_saml
from palier.agent.urlconfs import integrations as agent_integrations
from palier.agent.urlconfs import kb as agent_kb
from palier.agent.urlconfs import known_errors as agent_known_errors
from palier.agent.urlconfs import macros as agent_macros
from palier.agent.urlconfs import mail as agent_mail
from palier.agent.urlconfs import major as agent_major
from palier.agent.urlconfs import notifications as agent_notifications
from palier.agent.urlconfs import problem_candidates as agent_problem_candidates
from palier.agent.urlconfs import problems as agent_problems
from palier.agent.urlconfs import reports as agent_reports
from palier.agent.urlconfs import routing as agent_routing
from palier.agent.urlconfs import sla as agent_sla
from palier.agent.urlconfs import subscriptions as agent_subscriptions
from palier.agent.urlconfs import surveys as agent_surveys
from palier.agent.urlconfs import timelog as agent_timelog
from palier.agent.urlconfs import webhooks as agent_webhooks
from palier.agent.urlconfs import worklist as agent_worklist
from palier.assets.inventory import urls as inventory_intake
from palier.integrations import urls as integrations_hooks
from palier.portal.urlconfs import account as portal_account
from palier.portal.urlconfs import catalog as portal_catalog
from palier.portal.urlconfs import kb as portal_kb
from palier.portal.urlconfs import mfa as portal_mfa
from palier.portal.urlconfs import notifications as portal_notifications
from palier.portal.urlconfs import oidc as portal_oidc
from palier.portal.urlconfs import outages as portal_outages
from palier.portal.urlconfs import people as portal_people
from palier.portal.urlconfs import saml as portal_saml
from palier.portal.urlconfs import surveys as portal_surveys
from palier.portal.urlconfs import teams as portal_teams
from palier.portal.views.people import home
from palier.teamsbot import urls as teamsbot_hooks


def _pages(
    namespace: str, *lists: Sequence[URLPattern | URLResolver]
) -> tuple[Sequence[URLPattern | URLResolver], str | None, str | None]:
    """The pages of one domain under its URL namespace (``routing:rules``), from one or both interfaces."""
    return include(([pattern for patterns in lists for pattern in patterns], namespace))


urlpatterns = [
    path("", home, name="home"),
    path("", include("palier.portal.urls")),
    path("kb/", _pages("kb", portal_kb.urlpatterns, agent_kb.urlpatterns)),
    path("agent/routing/", _pages("routing", agent_routing.urlpatterns)),
    path("agent/sla/", _pages("sla", agent_sla.urlpatterns)),
    path("hooks/teams/", _pages("teamsbot", teamsbot_hooks.urlpatterns)),
    path("teams/", _pages("teams", portal_teams.urlpatterns)),
    path("hooks/", _pages("integrations", integrations_hooks.urlpatterns, agent_integrations.urlpatterns)),
    path("agent/mail/", _pages("mail", agent_mail.urlpatterns)),
    path("agent/identity/ldap/", _pages("identity_ldap", agent_identity_ldap.urlpatterns)),
    path("catalog/", _pages("catalog", portal_catalog.urlpatterns, agent_catalog.urlpatterns)),
    path("agent/automation/", _pages("automation", agent_automation.urlpatterns)),
    path("agent/webhooks/", _pages("webhooks", agent_webhooks.urlpatterns)),
    path("agent/macros/", _pages("macros", agent_macros.urlpatterns)),
    path("agent/reports/", _pages("reports", agent_reports.urlpatterns, agent_subscriptions.urlpatterns)),
    path("agent/time/", _pages("timelog", agent_timelog.urlpatterns)),
    path("agent/work/", _pages("worklist", agent_worklist.urlpatterns)),
    path("agent/audit/", _pages("audit", agent_audit.urlpatterns)),
    path("agent/assets/licences/", _pages("assets_licences", agent_assets_licences.urlpatterns)),
    path("agent/assets/import/", _pages("assets_import", agent_assets_import.urlpatterns)),
    path("agent/assets/inventory/", _pages("assets_inventory", agent_assets_inventory.urlpatterns)),
    path("agent/assets/", _pages("assets", agent_assets.urlpatterns)),
    path("", _pages("inventory", inventory_intake.urlpatterns)),  # /inventory/: the inventory agents' endpoint
    path("agent/identity/", _pages("identity", agent_identity.urlpatterns)),
    path("agent/problems/known-errors/", _pages("known_errors", agent_known_errors.urlpatterns)),
    path("agent/problems/candidates/", _pages("problem_candidates", agent_problem_candidates.urlpatterns)),
    path("agent/problems/", _pages("problems", agent_problems.urlpatterns)),
    path("agent/major/", _pages("major", agent_major.urlpatterns)),
    path("outages/", _pages("outages", portal_outages.urlpatterns)),
    path("agent/changes/approvals/", _pages("cab", agent_cab.urlpatterns)),
    path("agent/changes/calendar/", _pages("change_calendar", agent_change_calendar.urlpatterns)),
    path("agent/changes/", _pages("changes", agent_changes.urlpatterns)),
    path("surveys/", _pages("surveys", portal_surveys.urlpatterns, agent_surveys.urlpatterns)),
    path("notifications/", _pages("notifications", portal_notifications.urlpatterns, agent_notifications.urlpatterns)),
    path("agent/identity/oidc/", _pages("identity-oidc", agent_identity_oidc.urlpatterns)),
    path("", _pages("saml", portal_saml.urlpatterns, agent_saml.urlpatterns)),
    path("agent/", include("palier.agent.urls")),
    path("api/v1/", include("palier.api.urls")),
    path("accounts/oidc/", _pages("oidc", portal_oidc.urlpatterns)),
    path("accounts/2fa/", _pages("mfa", portal_mfa.urlpatterns)),
    path("accounts/", include(portal_people.urlpatterns)),
    path("accounts/", _pages("account", portal_account.urlpatterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("palier.ops.urls")),  # /health, /ready, /metrics: machine endpoints
]

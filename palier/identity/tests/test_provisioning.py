"""Single sign-on accounts: found by the provider's subject, never taken over by an email alone."""

from __future__ import annotations

import pytest

from palier.audit.models import AuditEvent
from palier.identity.models import ExternalIdentity, Provider
from palier.identity.provisioning import Claims, SignInRefused, resolve_user
from palier.people.models import Organisation, SupportGroup, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider() -> Provider:
    return Provider.objects.create(slug="corp", name="Corp", kind=Provider.Kind.OIDC, enabled=True)


def test_first_sign_in_creates_the_account_in_the_organisation_of_its_domain(provider: Provider) -> None:
    acme = Organisation.objects.create(name="Acme", email_domain="acme.example")
    user = resolve_user(provider, Claims(subject="s-1", email="Ana@Acme.example", full_name="Ana", language="fr-FR"))
    assert (user.email, user.full_name, user.language, user.organisation, user.role) == (
        "ana@acme.example",
        "Ana",
        "fr",
        acme,
        User.Role.REQUESTER,
    )
    assert not user.has_usable_password()
    # the next sign-in finds the same account by subject, even after the address changed
    again = resolve_user(provider, Claims(subject="s-1", email="ana.new@acme.example"))
    assert again.pk == user.pk
    assert ExternalIdentity.objects.get(provider=provider, subject="s-1").email == "ana.new@acme.example"


def test_an_existing_email_is_never_taken_over_unless_verified_and_allowed(provider: Provider) -> None:
    victim = User.objects.create_user("boss@acme.example", "pw", role=User.Role.ADMIN)
    with pytest.raises(SignInRefused) as refused:
        resolve_user(provider, Claims(subject="evil", email="boss@acme.example", email_verified=True))
    assert refused.value.reason == "email_in_use"
    assert not ExternalIdentity.objects.exists()
    assert AuditEvent.objects.filter(action="auth.sso_refused").count() == 1

    provider.link_verified_email = True
    provider.save()
    with pytest.raises(SignInRefused):  # the provider did not verify the address
        resolve_user(provider, Claims(subject="evil", email="boss@acme.example", email_verified=False))
    linked = resolve_user(provider, Claims(subject="boss-sub", email="boss@acme.example", email_verified=True))
    assert linked.pk == victim.pk
    assert AuditEvent.objects.filter(action="identity.linked", target_id=str(victim.pk)).exists()


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (Claims(subject="s", email=""), "no_email"),
        (Claims(subject="", email="a@b.example"), "no_subject"),
    ],
)
def test_incomplete_answers_are_refused_and_change_nothing(provider: Provider, claims: Claims, reason: str) -> None:
    with pytest.raises(SignInRefused) as refused:
        resolve_user(provider, claims)
    assert refused.value.reason == reason
    assert not User.objects.exists()


def test_disabled_provider_account_creation_off_and_deactivated_account(provider: Provider) -> None:
    provider.create_accounts = False
    provider.save()
    with pytest.raises(SignInRefused) as refused:
        resolve_user(provider, Claims(subject="s", email="new@acme.example"))
    assert refused.value.reason == "no_account"

    provider.create_accounts = True
    provider.save()
    user = resolve_user(provider, Claims(subject="s", email="new@acme.example"))
    user.is_active = False
    user.save()
    with pytest.raises(SignInRefused) as refused:
        resolve_user(provider, Claims(subject="s", email="new@acme.example"))
    assert refused.value.reason == "inactive"

    provider.enabled = False
    provider.save()
    with pytest.raises(SignInRefused) as refused:
        resolve_user(provider, Claims(subject="s", email="new@acme.example"))
    assert refused.value.reason == "provider_disabled"


def test_group_claims_set_the_role_and_only_the_mapped_support_groups(provider: Provider) -> None:
    network = SupportGroup.objects.create(name="Network", level=2)
    desk = SupportGroup.objects.create(name="Desk", level=1)
    handmade = SupportGroup.objects.create(name="Handmade", level=1)
    provider.sync_groups = True
    provider.role_map = {"it-staff": "agent", "it-leads": "manager"}
    provider.group_map = {"it-network": ["Network"], "it-desk": "Desk"}
    provider.save()
    user = resolve_user(
        provider, Claims(subject="s", email="tech@acme.example", groups=("it-staff", "it-leads", "it-network"))
    )
    assert user.role == User.Role.MANAGER
    assert set(user.support_groups.values_list("name", flat=True)) == {"Network"}
    handmade.members.add(user)

    user = resolve_user(provider, Claims(subject="s", email="tech@acme.example", groups=("it-staff", "it-desk")))
    user.refresh_from_db()
    assert user.role == User.Role.AGENT
    # moved from Network to Desk by the map; the group an admin gave by hand stays
    assert set(user.support_groups.values_list("name", flat=True)) == {"Desk", "Handmade"}
    assert network.members.count() == 0 and desk.members.count() == 1


def test_sign_in_page_shows_the_enabled_providers_in_the_visitors_language(client, provider: Provider) -> None:
    provider.label_en, provider.label_fr = "Sign in with Corp", "Se connecter avec Corp"
    provider.save()
    Provider.objects.create(slug="off", name="Switched off", kind=Provider.Kind.SAML, enabled=False)
    Provider.objects.create(slug="dir", name="Directory", kind=Provider.Kind.LDAP, enabled=True)
    page = client.get("/accounts/login/?next=/agent/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'href="/accounts/oidc/corp/login/?next=/agent/"' in page
    assert "Se connecter avec Corp" in page
    assert "Switched off" not in page and "Directory" not in page
    assert "Sign in with Corp" in client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

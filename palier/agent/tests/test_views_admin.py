"""Client tests for the administration pages (admins only)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import Organisation, SupportGroup, User

pytestmark = pytest.mark.django_db
PAGES = ["agent:admin", "agent:admin-users", "agent:admin-organisations", "agent:admin-groups"]


@pytest.mark.parametrize("name", PAGES)
def test_admin_pages_refuse_non_admins(client: Client, name: str, requester: User, agent: User, manager: User) -> None:
    assert client.get(reverse(name)).status_code == 302  # anonymous: to the login page
    for user in (requester, agent, manager):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 404
        assert client.post(reverse(name), {"name": "Sneaky", "email": "x@y.test"}).status_code == 404
    assert not Organisation.objects.filter(name="Sneaky").exists()


def test_admin_creates_a_user(client: Client, admin_user: User, org: Organisation) -> None:
    client.force_login(admin_user)
    data = {
        "email": "New.Person@Acme.test",
        "full_name": "New Person",
        "role": "agent",
        "organisation": org.pk,
        "language": "en",
        "password": "",
    }
    response = client.post(reverse("agent:admin-users"), data)
    assert response.status_code == 302
    created = User.objects.get(email="new.person@acme.test")
    assert (created.role, created.organisation, created.language) == ("agent", org, "en")
    assert "new.person@acme.test" in client.get(reverse("agent:admin-users")).content.decode()


def test_duplicate_user_shows_the_error_on_the_field(client: Client, admin_user: User, requester: User) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("agent:admin-users"), {"email": requester.email, "full_name": "Again", "role": "requester"}
    )
    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()
    assert User.objects.filter(email=requester.email).count() == 1


def test_weak_password_is_refused(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("agent:admin-users"), {"email": "w@acme.test", "full_name": "W", "role": "requester", "password": "123"}
    )
    assert response.status_code == 400
    assert 'id="id_password_error"' in response.content.decode()
    assert not User.objects.filter(email="w@acme.test").exists()


def test_admin_creates_an_organisation(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("agent:admin-organisations"), {"name": "Initech", "email_domain": "initech.test", "share_tickets": "on"}
    )
    assert response.status_code == 302
    assert Organisation.objects.get(name="Initech").share_tickets


def test_admin_creates_a_group_with_members(client: Client, admin_user: User, agent: User, agent_l2: User) -> None:
    client.force_login(admin_user)
    data = {"name": "Vendor Net", "level": "4", "is_vendor": "on", "members": [agent.pk, agent_l2.pk]}
    response = client.post(reverse("agent:admin-groups"), data)
    assert response.status_code == 302
    group = SupportGroup.objects.get(name="Vendor Net")
    assert (group.level, group.is_vendor) == (4, True)
    assert set(group.members.all()) == {agent, agent_l2}
    html = client.get(reverse("agent:admin-groups")).content.decode()
    assert "Vendor Net" in html and "Léa L1" in html


def test_vendor_group_below_l4_is_refused(client: Client, admin_user: User, agent: User) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("agent:admin-groups"), {"name": "Cheap vendor", "level": "1", "is_vendor": "on", "members": [agent.pk]}
    )
    assert response.status_code == 400
    assert 'id="id_is_vendor_error"' in response.content.decode()
    assert not SupportGroup.objects.filter(name="Cheap vendor").exists()


def test_requesters_cannot_be_group_members(client: Client, admin_user: User, requester: User) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("agent:admin-groups"), {"name": "G", "level": "2", "members": [requester.pk]})
    assert response.status_code == 400  # the form only offers agents
    assert not SupportGroup.objects.filter(name="G").exists()

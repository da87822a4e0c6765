"""Client tests for the administration pages (admins only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people import services as people
from palier.people.models import Department, Organisation, SupportGroup, User
from palier.tickets.models import Category
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
PAGES = [
    "agent:admin",
    "agent:admin-users",
    "agent:admin-organisations",
    "agent:admin-groups",
    "agent:admin-categories",
    "agent:admin-priorities",
]


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


def _object_pages(requester: User, org: Organisation, group: SupportGroup, category: Category) -> list[str]:
    return [
        reverse("agent:admin-user-edit", args=[requester.pk]),
        reverse("agent:admin-user-active", args=[requester.pk]),
        reverse("agent:admin-organisation-edit", args=[org.pk]),
        reverse("agent:admin-department-create", args=[org.pk]),
        reverse("agent:admin-group-edit", args=[group.pk]),
        reverse("agent:admin-category-edit", args=[category.pk]),
        reverse("agent:admin-category-active", args=[category.pk]),
    ]


def test_object_pages_refuse_non_admins(
    client: Client, requester: User, agent: User, manager: User, org: Organisation, triage: SupportGroup
) -> None:
    category = Category.objects.get(slug="hardware-printer")
    for user in (requester, agent, manager):
        client.force_login(user)
        for url in _object_pages(requester, org, triage, category):
            assert (
                client.post(url, {"name": "Sneaky", "active": "0", "name_fr": "X", "name_en": "X"}).status_code == 404
            )
    requester.refresh_from_db()
    category.refresh_from_db()
    assert requester.is_active and category.is_active and not Department.objects.exists()


def test_unknown_objects_answer_404(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    assert client.get(reverse("agent:admin-user-edit", args=[999999])).status_code == 404
    assert client.get(reverse("agent:admin-category-edit", args=[999999])).status_code == 404


# --- users --------------------------------------------------------------------------------------------


def test_admin_edits_a_user(client: Client, admin_user: User, requester: User, other_org: Organisation) -> None:
    department = people.create_department(organisation=other_org, name="Finance")
    client.force_login(admin_user)
    url = reverse("agent:admin-user-edit", args=[requester.pk])
    assert "Alice Martin" in client.get(url).content.decode()
    data = {
        "full_name": "Alice Martin-Roy",
        "role": "agent",
        "organisation": other_org.pk,
        "department": department.pk,
        "language": "en",
        "phone": "+33 1 23 45 67 89",
    }
    assert client.post(url, data).status_code == 302
    requester.refresh_from_db()
    assert (requester.full_name, requester.role, requester.organisation, requester.department, requester.language) == (
        "Alice Martin-Roy",
        "agent",
        other_org,
        department,
        "en",
    )


def test_department_of_another_organisation_is_refused_and_typed_values_kept(
    client: Client, admin_user: User, requester: User, org: Organisation, other_org: Organisation
) -> None:
    foreign = people.create_department(organisation=other_org, name="Finance")
    client.force_login(admin_user)
    url = reverse("agent:admin-user-edit", args=[requester.pk])
    data = {"full_name": "Typed name", "role": "requester", "organisation": org.pk, "department": foreign.pk}
    response = client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_department_error"' in html and 'value="Typed name"' in html
    requester.refresh_from_db()
    assert requester.full_name == "Alice Martin" and requester.department is None


def test_admin_deactivates_and_reactivates_a_user(client: Client, admin_user: User, requester: User) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-user-active", args=[requester.pk])
    assert client.post(url, {"active": "0"}).status_code == 302
    requester.refresh_from_db()
    assert not requester.is_active
    other = Client()
    assert not other.login(username=requester.email, password="pw-alice-123!")
    client.post(url, {"active": "1"})
    requester.refresh_from_db()
    assert requester.is_active


def test_admin_cannot_deactivate_or_demote_themselves(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    client.post(reverse("agent:admin-user-active", args=[admin_user.pk]), {"active": "0"})
    response = client.post(reverse("agent:admin-user-edit", args=[admin_user.pk]), {"role": "agent"})
    assert response.status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == "admin"


def test_user_list_searches_filters_and_pages(client: Client, admin_user: User, settings: Any) -> None:
    from palier.agent.views import admin as admin_views

    for i in range(5):
        people.create_user(email=f"person{i}@acme.test", full_name=f"Person {i}")
    client.force_login(admin_user)
    url = reverse("agent:admin-users")
    found = client.get(url, {"q": "person3"})
    assert [u.email for u in found.context["users"]] == ["person3@acme.test"]
    agents = client.get(url, {"role": "admin"})
    assert [u.email for u in agents.context["users"]] == [admin_user.email]
    original = admin_views.USER_PAGE
    admin_views.USER_PAGE = 4
    try:
        first = client.get(url)
        assert len(first.context["users"]) == 4 and first.context["next_query"]
        second = client.get(f"{url}?{first.context['next_query']}")
    finally:
        admin_views.USER_PAGE = original
    emails = {u.email for u in first.context["users"]} | {u.email for u in second.context["users"]}
    assert len(emails) == 6
    assert client.get(url, {"before": "nonsense"}).status_code == 200


def test_user_list_runs_a_constant_number_of_queries(
    client: Client, admin_user: User, org: Organisation, django_assert_max_num_queries: Any
) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-users")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    department = people.create_department(organisation=org, name="Sales")
    for i in range(20):
        people.create_user(email=f"many{i}@acme.test", organisation=org, department=department)
    with django_assert_max_num_queries(len(few)):
        client.get(url)


# --- organisations and departments ------------------------------------------------------------------


def test_admin_edits_an_organisation_and_adds_departments(client: Client, admin_user: User, org: Organisation) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-organisation-edit", args=[org.pk])
    response = client.post(url, {"name": "Acme Corp", "email_domain": "ACME.test", "share_tickets": "on"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.email_domain, org.share_tickets) == ("Acme Corp", "acme.test", True)
    add = reverse("agent:admin-department-create", args=[org.pk])
    assert client.post(add, {"name": "Accounting"}).status_code == 302
    duplicate = client.post(add, {"name": "accounting"})
    assert duplicate.status_code == 400 and 'id="id_name_error"' in duplicate.content.decode()
    assert list(org.departments.values_list("name", flat=True)) == ["Accounting"]
    assert "Accounting" in client.get(reverse("agent:admin-organisations")).content.decode()


def test_organisation_name_clash_changes_nothing(
    client: Client, admin_user: User, org: Organisation, other_org: Organisation
) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("agent:admin-organisation-edit", args=[org.pk]), {"name": "Globex"})
    assert response.status_code == 400
    assert 'value="Globex"' in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Acme"


# --- support groups ----------------------------------------------------------------------------------


def test_admin_edits_a_group_members_and_manager(
    client: Client, admin_user: User, l2: SupportGroup, agent: User, agent_l2: User, manager: User
) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-group-edit", args=[l2.pk])
    data = {
        "name": "Network L3",
        "level": "3",
        "email": "net@desk.test",
        "manager": manager.pk,
        "members": [agent.pk, manager.pk],
    }
    assert client.post(url, data).status_code == 302
    l2.refresh_from_db()
    assert (l2.name, l2.level, l2.email, l2.manager) == ("Network L3", 3, "net@desk.test", manager)
    assert set(l2.members.all()) == {agent, manager}  # agent_l2 removed
    html = client.get(reverse("agent:admin-groups")).content.decode()
    assert "Network L3" in html and "Nina Manager" in html


def test_vendor_flag_on_a_low_level_group_is_refused_on_edit(
    client: Client, admin_user: User, l2: SupportGroup
) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("agent:admin-group-edit", args=[l2.pk]), {"name": "Network L2", "level": "2", "is_vendor": "on"}
    )
    assert response.status_code == 400
    l2.refresh_from_db()
    assert not l2.is_vendor


# --- categories --------------------------------------------------------------------------------------


def test_admin_creates_a_child_category_and_edits_it(client: Client, admin_user: User, requester: User) -> None:
    parent = Category.objects.get(slug="hardware")
    client.force_login(admin_user)
    url = reverse("agent:admin-categories")
    form_page = client.get(url, {"parent": parent.pk}).content.decode()
    assert f'<option value="{parent.pk}" selected>' in form_page
    data = {"name_fr": "Casques", "name_en": "Headsets", "parent": parent.pk, "slug": ""}
    assert client.post(url, data).status_code == 302
    child = Category.objects.get(slug="headsets")
    assert (child.parent, child.name_fr, child.name_en) == (parent, "Casques", "Headsets")
    edit = reverse("agent:admin-category-edit", args=[child.pk])
    assert (
        client.post(
            edit, {"name_fr": "Casques audio", "name_en": "Headsets", "parent": parent.pk, "position": "3"}
        ).status_code
        == 302
    )
    child.refresh_from_db()
    assert (child.name_fr, child.position) == ("Casques audio", 3)
    client.force_login(requester)
    people.update_user(requester, by=requester, language="fr")
    assert "Casques audio" in client.get(reverse("portal:ticket-new")).content.decode()


def test_a_category_cannot_go_under_a_sub_category(client: Client, admin_user: User) -> None:
    child = Category.objects.filter(parent__isnull=False).first()
    root = Category.objects.get(slug="software")
    assert child is not None
    client.force_login(admin_user)
    data = {"name_fr": root.name_fr, "name_en": "Typed", "parent": child.pk, "position": "0"}
    response = client.post(reverse("agent:admin-category-edit", args=[root.pk]), data)
    assert response.status_code == 400  # a sub-category is not among the parents offered
    root.refresh_from_db()
    assert root.parent is None and root.name_en != "Typed"


def test_deactivated_category_is_no_longer_offered(client: Client, admin_user: User, requester: User) -> None:
    printer = Category.objects.get(slug="hardware-printer")
    client.force_login(admin_user)
    assert client.post(reverse("agent:admin-category-active", args=[printer.pk]), {"active": "0"}).status_code == 302
    printer.refresh_from_db()
    assert not printer.is_active
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-new")).content.decode()
    assert f'value="{printer.pk}"' not in html
    client.force_login(admin_user)
    client.post(reverse("agent:admin-category-active", args=[printer.pk]), {"active": "1"})
    printer.refresh_from_db()
    assert printer.is_active


# --- priority matrix ---------------------------------------------------------------------------------


def test_admin_edits_the_matrix_and_new_tickets_use_it(client: Client, admin_user: User, requester: User) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-priorities")
    page = client.get(url)
    assert page.status_code == 200
    data = {name: field.initial for name, field in page.context["form"].fields.items()}
    data["low__low"] = 2
    assert client.post(url, data).status_code == 302
    ticket = make_ticket(requester, impact="low", urgency="low")
    assert ticket.priority == 2
    assert 'name="low__low"' in client.get(url).content.decode()


def test_invalid_matrix_changes_nothing(client: Client, admin_user: User, requester: User) -> None:
    client.force_login(admin_user)
    url = reverse("agent:admin-priorities")
    response = client.post(url, {"low__low": "9", "high__high": "2"})
    assert response.status_code == 400
    assert make_ticket(requester, impact="high", urgency="high").priority == 1

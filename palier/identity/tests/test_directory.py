"""Directory sync against a real slapd: a broken or shrunken directory changes nothing; only the
directory's own people are touched."""

from __future__ import annotations

import pytest

from palier.audit.models import AuditEvent
from palier.identity import directory, ldap
from palier.identity.models import DirectorySyncRun, ExternalIdentity, Provider
from palier.identity.tests.slapd import Person, Slapd, Tree, free_port
from palier.identity.tests.test_ldap import make_provider
from palier.people.models import Department, Organisation, SupportGroup, User

pytestmark = pytest.mark.django_db

STAFF = [
    Person(uid="ana", mail="ana@acme.test", name="Ana Lopez", company="Acme", department="IT", groups=("l1",)),
    Person(uid="ben", mail="ben@acme.test", name="Ben Roy", company="Acme", department="Sales"),
    Person(uid="cleo", mail="cleo@acme.test", name="Cleo Dupont", company="Acme", department="Sales"),
    Person(uid="dan", mail="dan@acme.test", name="Dan Hill", company="Globex"),
    Person(uid="noemail", name="No Mail"),
]


@pytest.fixture
def provider(slapd: Slapd, tree: Tree) -> Provider:
    for person in STAFF:
        tree.add(person)
    SupportGroup.objects.create(name="Desk L1")
    # page_size 2: the five entries come in three pages
    provider = make_provider(
        slapd.url,
        tree,
        page_size=2,
        sync_filter="(&(objectClass=inetOrgPerson)(!(description=disabled)))",
        max_shrink_percent=30,
    )
    provider.sync_groups = True
    provider.role_map = {"l1": "agent"}
    provider.group_map = {"l1": ["Desk L1"]}
    provider.save()
    return provider


def test_dry_run_lists_the_changes_and_changes_nothing(provider: Provider) -> None:
    run = directory.sync(provider, dry_run=True)
    assert (run.status, run.found, run.created, run.skipped) == ("ok", 5, 4, 1)
    assert {line["email"] for line in run.changes if line["action"] == "create"} == {
        "ana@acme.test",
        "ben@acme.test",
        "cleo@acme.test",
        "dan@acme.test",
    }
    assert not User.objects.filter(email__endswith="@acme.test").exists()
    assert not Organisation.objects.filter(name="Acme").exists()
    assert DirectorySyncRun.objects.get().dry_run


def test_sync_creates_updates_and_deactivates_only_its_own_people(provider: Provider, tree: Tree) -> None:
    outsider = User.objects.create_user("eve@acme.test", "pw-12345678")  # not in the directory: never touched
    run = directory.sync(provider)
    assert (run.status, run.created, run.skipped) == ("ok", 4, 1), run.changes
    ana = User.objects.get(email="ana@acme.test")
    assert (ana.organisation.name, ana.department.name, ana.role) == ("Acme", "IT", "agent")
    assert list(SupportGroup.objects.get(name="Desk L1").members.all()) == [ana]
    assert Department.objects.filter(organisation__name="Acme").count() == 2
    assert User.objects.get(email="dan@acme.test").organisation.name == "Globex"

    tree.change("ana", department="Sales", memberOf="")
    tree.change("dan", description="disabled")  # as AD's filter on userAccountControl would
    run = directory.sync(provider)
    assert (run.updated, run.deactivated, run.created) == (1, 1, 0), run.changes
    ana.refresh_from_db()
    assert (ana.department.name, ana.role) == ("Sales", "requester")
    assert not SupportGroup.objects.get(name="Desk L1").members.exists()
    assert not User.objects.get(email="dan@acme.test").is_active
    outsider.refresh_from_db()
    assert outsider.is_active
    assert AuditEvent.objects.filter(action="identity.directory_synced").count() == 2
    # a third run has nothing to do
    run = directory.sync(provider)
    assert (run.created, run.updated, run.deactivated) == (0, 0, 0)
    # back in the directory: reactivated; an account an administrator deactivated stays so
    tree.change("dan", description="")
    User.objects.filter(email="ben@acme.test").update(is_active=False)
    run = directory.sync(provider)
    assert run.updated == 1 and "reactivated" in run.changes[0]["detail"], run.changes
    assert User.objects.get(email="dan@acme.test").is_active
    assert not User.objects.get(email="ben@acme.test").is_active


def test_an_emptied_or_shrunken_directory_changes_nothing(provider: Provider, tree: Tree) -> None:
    directory.sync(provider)
    provider.config = {**provider.config, "sync_filter": "(uid=nobody-at-all)"}
    provider.save()
    run = directory.sync(provider)
    assert (run.status, run.deactivated) == ("refused", 0)
    assert "listed no one" in run.error
    provider.config = {**provider.config, "sync_filter": "(|(uid=ana)(uid=ben))"}  # 2 of 4 would leave
    provider.save()
    run = directory.sync(provider)
    assert run.status == "refused" and "more than the 30% allowed" in run.error
    assert User.objects.filter(email__endswith="@acme.test", is_active=True).count() == 4


def test_an_unreachable_directory_reports_and_changes_nothing(provider: Provider) -> None:
    directory.sync(provider)
    provider.config = {**provider.config, "url": f"ldap://127.0.0.1:{free_port()}", "timeout": 1}
    provider.save()
    run = directory.sync(provider)
    assert (run.status, run.deactivated) == ("failed", 0)
    assert "Cannot reach the directory" in run.error
    assert User.objects.filter(email__endswith="@acme.test", is_active=True).count() == 4


def test_an_existing_account_is_linked_only_when_allowed(provider: Provider) -> None:
    ben = User.objects.create_user("ben@acme.test", "pw-12345678")
    run = directory.sync(provider)
    assert run.skipped == 2 and not ExternalIdentity.objects.filter(user=ben).exists()
    provider.link_verified_email = True
    provider.save()
    run = directory.sync(provider)
    assert run.linked == 1
    assert ExternalIdentity.objects.filter(user=ben, provider=provider).exists()


def test_command_runs_a_dry_run(provider: Provider) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("directory-sync", "--dry-run", "--provider", provider.slug, stdout=out)
    assert "ana@acme.test" in out.getvalue() and "dry run" in out.getvalue()
    assert not User.objects.filter(email="ana@acme.test").exists()
    assert ldap.settings_of(provider)["page_size"] == 2


def test_a_person_palier_refuses_is_reported_and_the_others_sync(provider: Provider) -> None:
    provider.role_map = {}  # ana stays a requester: she cannot join a support group
    provider.save()
    run = directory.sync(provider)
    assert (run.status, run.created, run.skipped) == ("ok", 3, 2)
    refused = next(line for line in run.changes if line["email"] == "ana@acme.test")
    assert refused["action"] == "skip" and "can join a group" in refused["detail"]
    assert not User.objects.filter(email="ana@acme.test").exists()

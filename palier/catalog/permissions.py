"""Who may see catalog items, name people in a form, read a submission and decide an approval:
the one rule source of the catalog.

* Items: active ones only (admins manage them all); an item restricted to organisations is
  visible to their members, one restricted to groups to the groups' members; agents see them all.
* People a requester may name in a "person" field: active people of the same organisation
  (agents may name anybody active; without an organisation, only agents).
* A submission is read by whoever may see its ticket, and by the people asked to approve it.
* An approval is decided by its approver only, while it waits.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from palier.catalog.models import Approval, CatalogItem
from palier.people import permissions as people_permissions
from palier.people.models import Membership, User
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Ticket

V = CatalogItem.Visibility


def visible_items(user: User) -> Q:
    """A filter on CatalogItem selecting what ``user`` may request."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    active = Q(is_active=True)
    if user.is_agent:
        return active
    allowed = Q(visibility=V.EVERYONE)
    if user.organisation_id is not None:
        allowed |= Q(
            visibility=V.ORGANISATIONS,
            pk__in=CatalogItem.organisations.through.objects.filter(organisation_id=user.organisation_id).values(
                "catalogitem_id"
            ),
        )
    my_groups = Membership.objects.filter(user_id=user.pk).values("group_id")
    allowed |= Q(
        visibility=V.GROUPS,
        pk__in=CatalogItem.groups.through.objects.filter(supportgroup_id__in=my_groups).values("catalogitem_id"),
    )
    return active & allowed


def can_manage(user: User) -> bool:
    """Items, categories, form fields, approval stages and tasks are managed by administrators."""
    return people_permissions.is_admin(user)


def require_manage(by: User) -> None:
    people_permissions.require_admin(by, message=_("Only administrators can change the service catalog."))


def nameable_people(user: User) -> QuerySet[User]:
    """The people ``user`` may pick in a "person" field."""
    people = User.objects.filter(is_active=True)
    if user.is_agent:
        return people
    if user.organisation_id is None:
        return people.filter(role__in=[User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN])
    return people.filter(organisation_id=user.organisation_id)


def can_read_submission(user: User, ticket: Ticket) -> bool:
    if ticket_permissions.can_see(user, ticket):
        return True
    return Approval.objects.filter(step__submission__ticket_id=ticket.pk, approver_id=user.pk).exists()


def can_decide(user: User, approval: Approval) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and approval.approver_id == user.pk
        and approval.decision == Approval.Decision.PENDING
    )

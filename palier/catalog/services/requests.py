"""Submitting a catalog request: the ticket, its answers, its approval steps and its tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.assets import facts as asset_facts
from palier.assets import services as asset_services
from palier.assets.models import Asset
from palier.catalog import conditions, permissions
from palier.catalog.models import ApprovalStep, CatalogItem, FulfilmentTask, ItemField, Submission, pick
from palier.lib.errors import NotFound
from palier.people.models import User
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

SUMMARY_CHARS = 80


def _summary(answers: list[dict[str, Any]]) -> str:
    """The first short text or person answer, to tell requests for the same item apart."""
    for answer in answers:
        if answer["kind"] in (ItemField.Kind.SHORT_TEXT, ItemField.Kind.PERSON) and answer["value"]:
            text = str(answer["text"])
            return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"
    return ""


def describe(item: CatalogItem, answers: list[dict[str, Any]]) -> str:
    """The answers as plain text: the ticket's description, so the ticket search finds them."""
    lines = [_("Catalog request: %(item)s") % {"item": item.name}, ""]
    for answer in answers:
        lines.append(f"{pick(answer['label_fr'], answer['label_en'])}: {answer['text']}")
    return "\n".join(lines)


@transaction.atomic
def submit_request(
    *,
    item: CatalogItem,
    requester: User,
    answers: list[dict[str, Any]],
    uploads: Mapping[str, IO[bytes] | None] | None = None,
    channel: str = Ticket.Channel.WEB,
    by: User | None = None,
) -> Ticket:
    """Open a service request for ``item`` with the requester's cleaned answers (from
    ``RequestForm.answers()``), attach the uploaded files, then start its approvals (the request
    waits in "pending approval") or, without approval stages, its fulfilment. ``channel`` says
    where it came from (the portal, the API); ``by`` is the agent who asked on the requester's
    behalf, shown as the request's creator (the requester by default)."""
    from palier.catalog.services import approvals, fulfilment

    if not CatalogItem.objects.filter(permissions.visible_items(requester), pk=item.pk).exists():
        raise NotFound(_("This catalog item does not exist."))
    answers = _checked(item, answers)
    summary = _summary(answers)
    subject = f"{item.name} — {summary}" if summary else item.name
    devices = _devices(requester, answers)
    with asset_facts.opening_with(devices):
        ticket = _open(item, requester, by, subject, answers, channel)
    for device in devices:  # the requester's own device, on their own new request
        asset_services.link_ticket(requester, ticket, device, notify=False)
    for key, upload in (uploads or {}).items():
        if upload is None:
            continue
        attachment = tickets.add_attachment(ticket, by=requester, upload=upload)
        for answer in answers:
            if answer["key"] == key:
                answer["value"] = {"name": attachment.filename, "attachment": attachment.pk}
                answer["text"] = attachment.filename
    submission = Submission.objects.create(
        ticket=ticket, item=item, answers=answers, fulfilment=item.fulfilment, state=Submission.State.APPROVAL
    )
    _copy_workflow(submission, item)
    if submission.steps.exists():
        tickets.transition_ticket(ticket, to=Ticket.Status.PENDING_APPROVAL, by=None)
        approvals.open_next_step(submission)
    else:
        fulfilment.start_fulfilment(submission)
    return ticket


def _checked(item: CatalogItem, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The item's conditions over the answers, whoever submits them (the form already applied
    them): the hidden fields' answers are dropped; a missing or refused answer stops the request."""
    specs = list(item.fields.order_by("order", "id"))
    if not any(spec.conditions for spec in specs):
        return answers
    outcome = conditions.apply(specs, {a["key"]: a["value"] for a in answers})
    if outcome.errors:
        labels = {spec.key: spec.label for spec in specs}
        raise ValidationError({"answers": [f"{labels[key]}: {message}" for key, message in outcome.errors.items()]})
    return [a for a in answers if a["key"] not in outcome.hidden]


def _open(
    item: CatalogItem, requester: User, by: User | None, subject: str, answers: list[dict[str, Any]], channel: str
) -> Ticket:
    return tickets.open_ticket(
        requester=requester,
        by=None,  # the catalog places the request itself (target group), which requesters may not
        on_behalf_of=by or requester,
        subject=subject[:250],
        description=describe(item, answers),
        kind=Ticket.Kind.REQUEST,
        channel=channel,
        category=item.ticket_category if item.ticket_category and item.ticket_category.is_active else None,
        impact=item.impact,
        urgency=item.urgency,
        group=item.target_group,
    )


def _devices(requester: User, answers: list[dict[str, Any]]) -> list[Asset]:
    """The assets the asset answers name, each checked to be the requester's own."""
    wanted = [a["value"]["id"] for a in answers if a["kind"] == ItemField.Kind.ASSET and isinstance(a["value"], dict)]
    if not wanted:
        return []
    found = list(Asset.objects.filter(pk__in=wanted, assigned_to_id=requester.pk))
    if len(found) != len(set(wanted)):
        raise ValidationError({"answers": _("Choose one of your own devices.")})
    return found


def _copy_workflow(submission: Submission, item: CatalogItem) -> None:
    """Snapshot the item's stages and task templates: later edits of the item change no request."""
    ApprovalStep.objects.bulk_create(
        ApprovalStep(
            submission=submission,
            order=n,
            kind=stage.kind,
            rule=stage.rule,
            quorum=stage.quorum,
            people_ids=sorted(p.pk for p in stage.people.all()),
            group_id=stage.group_id,
            with_previous=stage.with_previous and n > 1,
        )
        for n, stage in enumerate(item.stages.prefetch_related("people"), start=1)
    )
    FulfilmentTask.objects.bulk_create(
        FulfilmentTask(submission=submission, order=n, subject_fr=t.subject_fr, subject_en=t.subject_en, group=t.group)
        for n, t in enumerate(item.task_templates.all(), start=1)
    )

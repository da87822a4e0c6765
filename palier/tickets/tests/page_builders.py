"""Builders for the page query-count tests: a ticket that holds ``n`` of everything its pages show
(tags, watchers, links, comments, files, emailed messages, catalog answers and approvals)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from palier.catalog.tests.builders import make_item, submit
from palier.mail.models import InboundMessage
from palier.people import services as people
from palier.people.models import User
from palier.tickets import services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"data", content_type="text/plain")


def catalog_ticket(requester: User, *, n: int) -> Ticket:
    """A catalog request with ``n`` answers, ``n`` approvers on one stage and two fulfilment tasks."""
    approvers = [people.create_user(email=f"approver{n}-{i}@acme.test", full_name=f"Approver {i}") for i in range(n)]
    item = make_item(
        name=f"Item {n}",
        fields=[{"key": f"k{i}", "kind": "short_text"} for i in range(n)],
        stages=[{"kind": "people", "rule": "all", "people": approvers}],
        tasks=[("Prepare", None), ("Deliver", None)],
    )
    return submit(item, requester, {f"f_k{i}": f"answer {i}" for i in range(n)})


def fill_ticket(ticket: Ticket, *, agent: User, requester: User, n: int, internal: bool = True) -> Ticket:
    """Give ``ticket`` ``n`` tags, watchers, links, comments with a file, files of its own and
    emailed messages with quoted text (with ``internal``, every other agent comment is a note)."""
    others = [make_ticket(requester, subject=f"Other {ticket.pk}-{i}") for i in range(n)]
    services.update_ticket(ticket, by=agent, expected_version=None, changes={"tags": [f"tag{i}" for i in range(n)]})
    for i in range(n):
        watcher = people.create_user(email=f"watcher{ticket.pk}-{i}@acme.test", full_name=f"Watcher {i}")
        services.add_watcher(ticket, user=watcher, by=agent)
        services.link_tickets(ticket, target=others[i], kind="related", by=agent)
        author = requester if i % 2 else agent
        note = internal and author is agent and i % 4 == 0
        comment = services.comment_on_ticket(
            ticket, by=author, body=f"message {i}", uploads=[_upload(f"c{i}.txt")], internal=note
        )
        services.add_attachment(ticket, by=requester, upload=_upload(f"f{i}.txt"))
        InboundMessage.objects.create(
            dedupe_key=f"message-{ticket.pk}-{i}",
            ticket=ticket,
            comment=comment if i else None,
            state=InboundMessage.State.PROCESSED,
            full_text=f"message {i}\n\n> what was said before",
            reply_text=f"message {i}",
        )
    return ticket

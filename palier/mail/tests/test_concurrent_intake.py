"""Two mailgate pipes at once (real connections, PostgreSQL): a reply always joins its parent's
ticket, even when both pipes receive the first message of the same new sender at the same moment."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction

from palier.mail import services
from palier.mail.models import InboundMessage, Mailbox
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL (SQLite test DB is in memory)"
    ),
]
ROUNDS = 40


def _message(*, sender: str, mid: str, subject: str, parent: str = "", attachment: bool = False) -> bytes:
    head = f"From: {sender}\r\nTo: desk@palier.test\r\nSubject: {subject}\r\nMessage-ID: <{mid}>\r\n"
    if parent:
        head += f"In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"
    head += "MIME-Version: 1.0\r\n"
    body = "Bonjour,\r\n\r\nLe VPN est bloqué depuis ce matin.\r\n"
    if not attachment:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()
    return (
        f'{head}Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b\r\n"
        'Content-Type: application/octet-stream; name="log.bin"\r\n'
        'Content-Disposition: attachment; filename="log.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        "AAECAwQFBgcICQ==\r\n--b--\r\n"
    ).encode()


def _two_pipes(pipe: Callable[[str, threading.Barrier], list[tuple[int, int]]]) -> list[tuple[int, int]]:
    barrier = threading.Barrier(2, timeout=60)

    def run(name: str) -> list[tuple[int, int]]:
        try:
            return pipe(name, barrier)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, ["a", "b"]))
    return [pair for result in results for pair in result]


@pytest.mark.parametrize("strategy", ["manual", "round_robin"])
@pytest.mark.django_db(transaction=True)
def test_replies_join_their_parent_when_two_pipes_meet_a_new_sender(strategy):
    """Round robin: each opening also takes the group's row lock (after inserting the new user)."""
    group = SupportGroup.objects.get(is_triage=True)
    group.assignment_strategy = strategy
    group.save()
    for i in range(3):
        agent = people.create_user(email=f"agent{i}@desk.test", full_name=f"Agent {i}", role=User.Role.AGENT)
        people.add_group_member(group, user=agent)
    mailbox = Mailbox.objects.create(name="desk", address="desk@palier.test", target_group=group)

    def pipe(name: str, barrier: threading.Barrier) -> list[tuple[int, int]]:
        pairs = []
        for r in range(ROUNDS):
            sender = f"new{r}@client{r % 3}.test"
            parent = f"{name}-{r}@gate.test"
            barrier.wait()  # both pipes get the first mail of the same new sender at once
            opener = services.receive_and_process(
                _message(sender=sender, mid=parent, subject=f"Pipe {name} {r}", attachment=bool(r % 2)),
                mailbox=mailbox,
            )
            reply = services.receive_and_process(
                _message(sender=sender, mid=f"{name}-{r}-re@gate.test", subject=f"Re: Pipe {name} {r}", parent=parent),
                mailbox=mailbox,
            )
            pairs.append((opener.pk, reply.pk))
        return pairs

    pairs = _two_pipes(pipe)

    quarantined = list(
        InboundMessage.objects.filter(state=InboundMessage.State.QUARANTINED).values_list("error", flat=True)
    )
    assert quarantined == []
    for opener_id, reply_id in pairs:
        opener = InboundMessage.objects.get(pk=opener_id)
        reply = InboundMessage.objects.get(pk=reply_id)
        assert reply.comment_id is not None, (opener.error, reply.error)
        assert reply.ticket_id == opener.ticket_id
    assert Ticket.objects.filter(channel=Ticket.Channel.EMAIL).count() == 2 * ROUNDS  # one per opener, none per reply
    assert User.objects.filter(email__startswith="new").count() == ROUNDS  # one account per new sender
    if strategy == "round_robin":  # the group lock was really taken: every opening was assigned
        assert not Ticket.objects.filter(channel=Ticket.Channel.EMAIL, assignee=None).exists()


@pytest.mark.parametrize("first_creator", ["commits", "rolls back"])
@pytest.mark.django_db(transaction=True)
def test_a_pipe_waiting_for_a_concurrent_new_sender_uses_or_creates_the_account(first_creator):
    """Pipe A has inserted the new sender's account and not committed; pipe B's first mail from the
    same address waits on the unique email, then uses A's account (or creates it after a rollback),
    and B's reply joins B's ticket."""
    mailbox = Mailbox.objects.create(name="desk", address="desk@palier.test")
    inserted, finish = threading.Event(), threading.Event()

    def pipe_a() -> int:
        try:
            with transaction.atomic():
                user = people.create_user(email="first@client.test", full_name="First")
                inserted.set()
                finish.wait(30)
                if first_creator == "rolls back":
                    transaction.set_rollback(True)
            return user.pk
        finally:
            connections.close_all()

    def pipe_b() -> tuple[int, int]:
        try:
            inserted.wait(30)
            opener = services.receive_and_process(
                _message(sender="first@client.test", mid="b-1@gate.test", subject="Pipe b"), mailbox=mailbox
            )
            reply = services.receive_and_process(
                _message(
                    sender="first@client.test", mid="b-1-re@gate.test", subject="Re: Pipe b", parent="b-1@gate.test"
                ),
                mailbox=mailbox,
            )
            return opener.pk, reply.pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(pipe_a)
        b = pool.submit(pipe_b)
        inserted.wait(30)
        time.sleep(0.5)  # B is now blocked on A's uncommitted row
        assert not b.done()
        finish.set()
        a_user = a.result(30)
        opener_id, reply_id = b.result(30)

    opener, reply = InboundMessage.objects.get(pk=opener_id), InboundMessage.objects.get(pk=reply_id)
    assert (opener.state, opener.error) == (InboundMessage.State.PROCESSED, "")
    assert reply.comment_id is not None and reply.ticket_id == opener.ticket_id
    account = User.objects.get(email="first@client.test")
    assert opener.ticket.requester_id == account.pk
    assert (account.pk == a_user) is (first_creator == "commits")

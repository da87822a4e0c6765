"""Crash safety of IMAP fetching: a real ``palier mailfetch`` process is killed (SIGKILL) in the
middle of 200 messages, restarted, and every message still gives exactly one ticket or comment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest
from imap_tools import AND, MailBoxUnencrypted

from palier.mail.models import InboundMessage, Mailbox, MessageRecord
from palier.mail.tests import dovecot as dovecot_server
from palier.tickets.models import Comment, Ticket
from testsupport.processes import run_palier, shared_database

TOTAL = 200
KILL_AFTER = 70  # messages stored when the process is killed


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    with dovecot_server.start() as port:
        yield port


def _message(n: int) -> bytes:
    """Groups of four from one sender: three new requests, then a reply to the group's first."""
    sender = f"user{(n // 4) % 5}@acme.test"
    headers = f"From: User <{sender}>\r\nTo: desk@palier.test\r\nMessage-ID: <crash-{n}@acme.test>\r\n"
    if n % 4 == 3:
        headers += f"Subject: Re: Problem {n - 3}\r\nIn-Reply-To: <crash-{n - 3}@acme.test>\r\n"
    else:
        headers += f"Subject: Problem {n}\r\n"
    return (headers + f"\r\nMessage number {n}.\r\n").encode()


def _fill(port: int) -> None:
    with MailBoxUnencrypted("127.0.0.1", port=port).login(dovecot_server.USER, dovecot_server.PASSWORD) as client:
        client.delete(client.uids("ALL"))
        for n in range(TOTAL):
            client.append(_message(n), "INBOX", flag_set=())


def _unseen(port: int) -> int:
    with MailBoxUnencrypted("127.0.0.1", port=port).login(dovecot_server.USER, dovecot_server.PASSWORD) as client:
        return len(client.uids(AND(seen=False)))


@pytest.mark.django_db(transaction=True)
def test_killed_fetch_restarts_without_loss_or_duplicate(dovecot: int) -> None:
    _fill(dovecot)
    mailbox = Mailbox(
        name="desk", address="desk@palier.test", imap_host="127.0.0.1", imap_port=dovecot, imap_tls=False,
        imap_user=dovecot_server.USER, password_env="PALIER_SECRET_CRASH_IMAP",
    )  # fmt: skip
    mailbox.save()
    with shared_database() as env:
        env["PALIER_SECRET_CRASH_IMAP"] = dovecot_server.PASSWORD  # the processes have their own SECRET_KEY
        env["PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR"] = "0"  # 150 tickets from one domain: no rate limit here
        with run_palier(["mailfetch", "--mailbox", "desk"], env=env, timeout=60) as run:
            run.wait_until(lambda: InboundMessage.objects.count() >= KILL_AFTER, timeout=60, poll=0.01)
            os.killpg(run.processes[0].pid, signal.SIGKILL)
            run.processes[0].wait()
        stored_at_kill = InboundMessage.objects.count()
        assert stored_at_kill < TOTAL  # it really died in the middle
        again = subprocess.run(
            [sys.executable, "-m", "palier.cli", "mailfetch", "--mailbox", "desk"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert again.returncode == 0, again.stdout + again.stderr
        _assert_each_message_gave_one_ticket_or_comment()
    assert _unseen(dovecot) == 0


def _assert_each_message_gave_one_ticket_or_comment() -> None:
    inbound = list(InboundMessage.objects.values_list("message_id", "state", "ticket_id", "comment_id"))
    assert len(inbound) == TOTAL
    assert len({mid for mid, *_ in inbound}) == TOTAL
    assert Counter(state for _, state, _, _ in inbound) == {InboundMessage.State.PROCESSED: TOTAL}
    openers = [ticket for _, _, ticket, comment in inbound if comment is None]
    comments = [comment for *_, comment in inbound if comment is not None]
    assert Ticket.objects.count() == len(openers) == len(set(openers)) == 150
    assert Comment.objects.count() == len(comments) == len(set(comments)) == 50
    assert MessageRecord.objects.count() == TOTAL

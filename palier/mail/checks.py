"""Deployment checks of the mail intake (``palier check --deploy``, Django's check framework).

A mailbox that takes mail without sender authentication lets anybody write as anybody: replies
from a forged requester address, acknowledgements to forged senders (see docs/email.md).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError

from palier.mail import secrets


@register(Tags.security, deploy=True)
def check_mailbox_sender_authentication(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from palier.mail.models import Mailbox

    try:
        boxes = list(Mailbox.objects.filter(is_active=True).order_by("name"))
    except DatabaseError:  # not migrated yet: nothing to say about mailboxes
        return []
    messages: list[CheckMessage] = []
    for box in boxes:
        if not box.authserv_id:
            messages.append(
                Warning(
                    f"Mailbox {box.name!r} ({box.address}) accepts mail without sender authentication: "
                    "any sender address can be forged.",
                    hint="Set its trusted authserv-id (your mail server's Authentication-Results name) and "
                    "turn on 'Require sender authentication' (docs/email.md).",
                    obj=box,
                    id="palier.mail.W001",
                )
            )
        elif not box.require_sender_authentication:
            messages.append(
                Warning(
                    f"Mailbox {box.name!r} ({box.address}) reads authentication results but does not require "
                    "them: a forged requester address can still reply on tickets.",
                    hint="Turn on 'Require sender authentication' for this mailbox (docs/email.md).",
                    obj=box,
                    id="palier.mail.W002",
                )
            )
        for name in (box.password_env, box.oauth_secret_env):
            if name and not secrets.env_name_allowed(name):
                messages.append(
                    Warning(
                        f"Mailbox {box.name!r} reads its secret from {name}, which Palier no longer reads.",
                        hint=f"Rename the variable to start with {secrets.ENV_PREFIX}, or store the secret in the "
                        "mailbox settings.",
                        obj=box,
                        id="palier.mail.W003",
                    )
                )
    return messages

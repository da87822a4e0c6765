"""Background tasks for integrations: ids and plain data in, idempotent, a service call each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_tasks import task

from palier.integrations import outbound
from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.people.models import User


@task()
def post_json_task(url: str, payload: dict[str, Any], attempt: int = 1) -> bool:
    """Post a chat webhook; on a temporary failure queue the next attempt after a delay."""
    delay = outbound.attempt(url, payload, number=attempt)
    if delay is None:
        return True
    again = post_json_task
    if again.get_backend().supports_defer:
        again = again.using(run_after=timezone.now() + timedelta(seconds=delay))
    again.enqueue(url, payload, attempt + 1)
    return False


@task()
def open_chat_ticket_task(app_id: int, user_id: int, text: str, reply_url: str = "") -> str:
    """Open the ticket asked for in a chat message; answer through ``reply_url`` (Slack response_url)."""
    app = ChatApp.objects.get(pk=app_id)
    user = User.objects.get(pk=user_id, is_active=True)
    ticket = chat.open_ticket_from_chat(app=app, user=user, text=text)
    if reply_url:
        outbound.post_later(reply_url, {"response_type": "ephemeral", "text": chat.opened_answer(ticket, user)})
    return ticket.reference

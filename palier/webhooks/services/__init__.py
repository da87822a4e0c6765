"""Writes of the webhooks app: subscriptions (``subscriptions.py``) and deliveries
(``delivery.py``: the hand-over from the event stream and the history hooks, the claim, the
attempts, redelivery)."""

from palier.webhooks.services.delivery import (
    change_event_recorded,
    consume,
    problem_event_recorded,
    redeliver,
    run_due,
)
from palier.webhooks.services.subscriptions import (
    create_subscription,
    delete_subscription,
    enable_subscription,
    rotate_secret,
    update_subscription,
)

__all__ = [
    "change_event_recorded",
    "consume",
    "create_subscription",
    "delete_subscription",
    "enable_subscription",
    "problem_event_recorded",
    "redeliver",
    "rotate_secret",
    "run_due",
    "update_subscription",
]

"""A rule's webhook address is checked like a webhook subscription's: https, no credentials, no
private or local network (unless the desk's settings allow them), when saved and when called."""

from __future__ import annotations

import pytest

from palier.automation import actions
from palier.automation.services import webhooks
from palier.integrations.outbound import UnsafeTarget


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://localhost/x",
        "https://user:pw@hooks.example.com/x",
        "https://10.1.2.3/x",
    ],
)
def test_an_unsafe_address_is_refused_when_the_rule_is_saved(url: str) -> None:
    with pytest.raises(ValueError):
        actions.clean_url({"url": url})


def test_a_public_https_address_is_kept() -> None:
    assert actions.clean_url({"url": "https://hooks.example.com/palier"}) == "https://hooks.example.com/palier"


def test_the_settings_open_local_receivers(settings) -> None:
    settings.PALIER_WEBHOOKS_ALLOW_HTTP = True
    settings.PALIER_WEBHOOKS_ALLOW_PRIVATE = True
    assert actions.clean_url({"url": "http://127.0.0.1:9/x"}) == "http://127.0.0.1:9/x"


def test_a_saved_address_leading_to_a_private_network_is_refused_when_called() -> None:
    """A rule saved before these checks, or a name that now resolves to loopback."""
    with pytest.raises(UnsafeTarget):
        webhooks.post("https://localhost:9/x", "{}", "sig", "d1")

"""``palier rotate-secrets`` re-encrypts the sign-in secrets too: a provider's client secret and
an authenticator app's secret still open after the key changed and the old key is dropped."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from palier.identity.mfa.models import TotpDevice
from palier.identity.models import Provider
from palier.mail import secrets
from palier.people.models import User

pytestmark = pytest.mark.django_db


def test_rotation_rewrites_provider_and_authenticator_secrets(settings: Any) -> None:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-key-" + "x" * 40, []
    provider = Provider.objects.create(
        slug="corp", name="Corp", kind=Provider.Kind.OIDC, secret=secrets.encrypt("client-s3cret")
    )
    user = User.objects.create_user("ana@acme.example", "pw")
    device = TotpDevice.objects.create(user=user, secret=secrets.encrypt("JBSWY3DPEHPK3PXP"))

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key-" + "y" * 40, ["old-key-" + "x" * 40]
    call_command("rotate-secrets")
    settings.SECRET_KEY_FALLBACKS = []
    provider.refresh_from_db()
    device.refresh_from_db()
    assert secrets.decrypt(provider.secret) == "client-s3cret"
    assert secrets.decrypt(device.secret) == "JBSWY3DPEHPK3PXP"


def test_a_secret_no_key_opens_is_named_and_the_command_fails(settings: Any) -> None:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-key-" + "x" * 40, []
    Provider.objects.create(slug="corp", name="Corp", kind=Provider.Kind.OIDC, secret=secrets.encrypt("s"))
    settings.SECRET_KEY = "unrelated-" + "z" * 40
    with pytest.raises(SystemExit) as exited:
        call_command("rotate-secrets")
    assert exited.value.code == 1

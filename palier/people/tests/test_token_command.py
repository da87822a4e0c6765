from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from palier.people.models import ApiToken
from palier.people.services import authenticate_token


def test_token_create_prints_a_working_secret_on_its_last_line(agent):
    out = StringIO()
    call_command("token", "create", agent.email.upper(), "--scope", "write", stdout=out, stderr=StringIO())
    secret = out.getvalue().strip().splitlines()[-1]
    token = authenticate_token(secret)
    assert token is not None and token.user == agent and token.scope == "write"
    # only the hash is stored
    assert not ApiToken.objects.filter(digest=secret).exists()
    assert secret not in str(list(ApiToken.objects.values()))


def test_token_create_for_unknown_user_fails_clearly(db):
    with pytest.raises(CommandError, match="No user"):
        call_command("token", "create", "nobody@x.test", stdout=StringIO(), stderr=StringIO())


def test_revoked_token_no_longer_authenticates(agent):
    out = StringIO()
    call_command("token", "create", agent.email, stdout=out, stderr=StringIO())
    secret = out.getvalue().strip().splitlines()[-1]
    call_command("token", "revoke", secret[:12], stdout=StringIO())
    assert authenticate_token(secret) is None

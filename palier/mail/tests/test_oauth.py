"""OAuth2 (XOAUTH2) mailboxes: tokens from a local stand-in of the Microsoft and Google token
endpoints (msal and google-auth run for real against it), and the XOAUTH2 login against a real
Dovecot whose oauth2 passdb asks the same server whether the token is valid."""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

from palier.mail import imap, oauth
from palier.mail.models import Mailbox
from palier.mail.tests import dovecot as dovecot_server
from palier.mail.tests import oauth_server
from palier.mail.tests.oauth_server import CLIENT_ID, CLIENT_SECRET, TENANT, TokenServer
from palier.people.models import User
from palier.tickets.models import Ticket


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    with oauth_server.running(Path(tempfile.mkdtemp(prefix="palier-oauth-"))) as server:
        yield server


@pytest.fixture(scope="module")
def oauth_dovecot(tokens: TokenServer) -> Iterator[int]:
    directory = Path(tempfile.mkdtemp(prefix="palier-oauth-dovecot-"))
    directory.chmod(0o755)
    conf = directory / "oauth2.conf.ext"
    conf.write_text(
        f"introspection_mode = post\nintrospection_url = {tokens.http_url}/introspect\n"
        "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
    )
    conf.chmod(0o644)
    passdb = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {conf}\n}}"
    with dovecot_server.start(passdb=passdb, mechanisms="xoauth2 oauthbearer") as port:
        yield port


@pytest.fixture(autouse=True)
def env(tokens: TokenServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    oauth.clear_cache()
    monkeypatch.setattr(oauth, "MICROSOFT_AUTHORITY", tokens.https_url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tokens.ca_file)  # trust the throwaway certificate
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("PALIER_SECRET_TEST_MS", CLIENT_SECRET)
    yield
    oauth.clear_cache()


def _microsoft(port: int = 1, **extra: object) -> Mailbox:
    fields: dict[str, object] = {
        "name": "m365", "address": "desk@palier.test", "imap_host": "127.0.0.1", "imap_port": port,
        "imap_tls": False, "imap_user": "desk", "oauth_provider": "microsoft", "oauth_tenant": TENANT,
        "oauth_client_id": CLIENT_ID, "oauth_secret_env": "PALIER_SECRET_TEST_MS", **extra,
    }  # fmt: skip
    return Mailbox.objects.create(**fields)


def test_xoauth2_string_is_the_documented_format() -> None:
    text = oauth.xoauth2_string("desk@palier.test", "ya29.token")
    assert base64.b64encode(text.encode()).decode() == (
        "dXNlcj1kZXNrQHBhbGllci50ZXN0AWF1dGg9QmVhcmVyIHlhMjkudG9rZW4BAQ=="
    )


def test_microsoft_client_credentials_token_is_cached(db: None, tokens: TokenServer) -> None:
    mailbox = _microsoft()
    before = tokens.count("microsoft")
    token = oauth.access_token(mailbox, "desk")
    assert token in tokens.issued
    request = tokens.requests[-1]
    assert request["grant_type"] == "client_credentials"
    assert request["scope"] == "https://outlook.office365.com/.default"
    assert oauth.access_token(mailbox, "desk") == token  # no second request until near expiry
    assert tokens.count("microsoft") == before + 1


def test_bad_secret_is_a_clear_fetch_failure(db: None, tokens: TokenServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALIER_SECRET_TEST_MS", "wrong")
    mailbox = _microsoft()
    result = imap.fetch_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.consecutive_failures == 1
    assert result.error.startswith("OAuth2: Microsoft 365 refused the token: AADSTS7000215: Invalid client secret")
    assert "Trace ID" not in mailbox.last_error


def test_missing_secret_variable_is_a_clear_fetch_failure(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PALIER_SECRET_TEST_MS")
    mailbox = _microsoft()
    assert imap.fetch_mailbox(mailbox).error == (
        "OAuth2: The environment variable PALIER_SECRET_TEST_MS is not set or empty."
    )


def test_google_service_account_impersonates_the_mailbox_user(
    db: None, tokens: TokenServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PALIER_SECRET_TEST_GOOGLE_KEY", str(oauth_server.google_key_file(tmp_path, tokens)))
    mailbox = Mailbox.objects.create(
        name="gw", address="desk@palier.test", imap_host="127.0.0.1", imap_user="desk@palier.test",
        oauth_provider="google", oauth_secret_env="PALIER_SECRET_TEST_GOOGLE_KEY",
    )  # fmt: skip
    token = oauth.access_token(mailbox, "desk@palier.test")
    assert token in tokens.issued
    claims = tokens.requests[-1]
    assert claims["sub"] == "desk@palier.test" and claims["scope"] == "https://mail.google.com/"
    assert claims["iss"] == "desk-reader@palier-test.iam.gserviceaccount.com"


def test_google_service_account_key_stored_encrypted(db: None, tokens: TokenServer, tmp_path: Path) -> None:
    key = oauth_server.google_key_file(tmp_path, tokens).read_text()
    mailbox = Mailbox(
        name="gw", address="desk@palier.test", imap_host="127.0.0.1", imap_user="desk@palier.test",
        oauth_provider="google",
    )  # fmt: skip
    mailbox.set_oauth_secret(key)
    mailbox.save()
    assert "PRIVATE KEY" not in mailbox.oauth_secret_encrypted
    assert oauth.access_token(mailbox, "desk@palier.test") in tokens.issued
    assert tokens.requests[-1]["sub"] == "desk@palier.test"


def test_google_unreadable_key_file(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALIER_SECRET_TEST_GOOGLE_KEY", "/nonexistent/key.json")
    mailbox = Mailbox.objects.create(
        name="gw", address="desk@palier.test", imap_host="127.0.0.1", imap_port=1,
        oauth_provider="google", oauth_secret_env="PALIER_SECRET_TEST_GOOGLE_KEY",
    )  # fmt: skip
    error = imap.fetch_mailbox(mailbox).error
    assert error.startswith("OAuth2: The Google service account key cannot be read: FileNotFoundError")


def test_xoauth2_login_and_fetch_against_dovecot(requester: User, tokens: TokenServer, oauth_dovecot: int) -> None:
    raw = (
        b"From: Alice <alice@acme.test>\r\nTo: desk@palier.test\r\nSubject: VPN down\r\n"
        b"Message-ID: <oauth-1@acme.test>\r\n\r\nThe VPN is down.\r\n"
    )
    with MailBoxUnencrypted("127.0.0.1", port=oauth_dovecot).xoauth2("desk", tokens.issue("setup")) as client:
        client.append(raw, "INBOX", flag_set=())
    mailbox = _microsoft(oauth_dovecot)
    assert imap.check_connection(mailbox) == ""
    result = imap.fetch_mailbox(mailbox)
    assert (result.fetched, result.error) == (1, "")
    assert Ticket.objects.get(channel="email").subject == "VPN down"
    mailbox.refresh_from_db()
    assert mailbox.last_success_at is not None and mailbox.consecutive_failures == 0


def test_a_refused_token_is_not_reused(db: None, tokens: TokenServer, oauth_dovecot: int) -> None:
    # last in this module: Dovecot slows the logins that follow a failed one
    mailbox = _microsoft(oauth_dovecot)
    token = oauth.access_token(mailbox, "desk")
    tokens.issued.discard(token)  # revoked at the provider: the IMAP server refuses it
    error = imap.fetch_mailbox(mailbox).error
    assert error == "IMAP: [AUTHENTICATIONFAILED] Authentication failed."
    assert oauth.access_token(mailbox, "desk") != token  # the next poll asks for a new one

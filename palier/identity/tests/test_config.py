"""Providers from the configuration file (``PALIER_IDENTITY_CONFIG``): loaded as read-only rows,
every problem listed at once and nothing changed, secrets only by variable name."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from palier.identity import config, kinds
from palier.identity.models import Provider
from palier.people.models import Organisation

pytestmark = pytest.mark.django_db

GOOD = """
[providers.entra]
kind = "oidc"
name = "Contoso"
label_en = "Contoso account"
label_fr = "Compte Contoso"
secret_env = "PALIER_SECRET_ENTRA"
default_organisation = "Acme"
sync_groups = true
role_map = { "desk-agents" = "agent" }
group_map = { "desk-agents" = ["Network L2"] }

[providers.entra.config]
issuer = "https://login.microsoftonline.com/tenant/v2.0"
client_id = "11111111-2222"
claim_groups = "roles"
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "identity.toml"
    path.write_text(text)
    return path


def test_a_file_with_mistakes_is_refused_whole_with_every_mistake(
    tmp_path: Path, org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(kinds.MODULES, "saml", "palier.identity.not_built_here")
    bad = (
        GOOD
        + """
[providers.leaky]
kind = "oidc"
name = "Leaky"
[providers.leaky.config]
issuer = "http://login.example.com"
client_id = "x"
client_secret = "never in a file"

[providers.other]
kind = "saml"
name = "Other"
enabled = "yes"
secret_env = "DATABASE_URL"
default_role = "root"

[providers."Bad Slug"]
kind = "oidc"
"""
    )
    with pytest.raises(config.ConfigError) as refused:
        config.load(_file(tmp_path, bad))
    text = "\n".join(refused.value.errors)
    assert "providers.leaky.config.client_secret: secrets are never written in the file" in text
    assert "providers.other.kind: saml providers are not available" in text
    assert "providers.other.enabled: true or false" in text
    assert "providers.other.secret_env: the variable's name must start with PALIER_SECRET_" in text
    assert "providers.other.default_role" in text
    assert "providers.Bad Slug: the identifier" in text
    assert not Provider.objects.exists()  # the good provider of the file was not loaded either


def test_the_issuer_is_checked_by_its_kind(tmp_path: Path, org: Organisation) -> None:
    with pytest.raises(config.ConfigError) as refused:
        config.load(_file(tmp_path, GOOD.replace("https://login.microsoftonline.com", "http://login.example.com")))
    assert refused.value.errors == [
        "providers.entra.config.issuer: The issuer must use https:// (http:// only on this machine, for tests)."
    ]


def test_unreadable_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="not valid TOML"):
        config.load(_file(tmp_path, "[providers.x\n"))
    with pytest.raises(config.ConfigError, match="cannot be read"):
        config.load(tmp_path / "missing.toml")
    with pytest.raises(config.ConfigError, match="unknown section"):
        config.load(_file(tmp_path, "[servers]\n"))


def test_loading_creates_updates_and_switches_off(tmp_path: Path, org: Organisation) -> None:
    path = _file(tmp_path, GOOD)
    assert config.load(path, dry_run=True).created == ["entra"] and not Provider.objects.exists()
    assert config.load(path).created == ["entra"]
    provider = Provider.objects.get()
    assert provider.from_environment and provider.enabled and provider.kind == "oidc"
    assert (provider.secret_env, provider.secret, provider.default_organisation) == ("PALIER_SECRET_ENTRA", "", org)
    assert provider.config["claim_groups"] == "roles" and provider.config["scopes"] == "openid email profile"
    assert provider.role_map == {"desk-agents": "agent"} and provider.label_fr == "Compte Contoso"
    assert config.load(path).unchanged == ["entra"]

    path.write_text(GOOD.replace('name = "Contoso"', 'name = "Contoso Ltd"'))
    assert config.load(path).updated == ["entra"]
    provider.refresh_from_db()
    assert provider.name == "Contoso Ltd"

    path.write_text("")  # gone from the file: switched off, the accounts' links kept
    assert config.load(path).switched_off == ["entra"]
    provider.refresh_from_db()
    assert not provider.enabled


def test_an_identifier_taken_on_the_admin_pages_is_not_overwritten(tmp_path: Path, org: Organisation) -> None:
    Provider.objects.create(slug="entra", name="Made by hand", kind="oidc")
    with pytest.raises(config.ConfigError, match="already made a provider"):
        config.load(_file(tmp_path, GOOD))
    assert Provider.objects.get().name == "Made by hand"


def test_the_command_reads_the_file_of_the_setting(tmp_path: Path, org: Organisation, settings: object) -> None:
    with pytest.raises(CommandError, match="PALIER_IDENTITY_CONFIG"):
        call_command("identity", "load-config")
    settings.PALIER_IDENTITY_CONFIG = str(_file(tmp_path, GOOD))  # type: ignore[attr-defined]
    call_command("identity", "load-config")
    assert Provider.objects.get().slug == "entra"
    _file(tmp_path, GOOD.replace('kind = "oidc"', 'kind = "kerberos"'))
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("identity", "load-config")

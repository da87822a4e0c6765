"""The Teams app package: a manifest naming the bot, its French localisation, the two icons."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from palier.integrations.models import ChatApp
from palier.teamsbot.tests.conftest import APP_ID


def test_the_package_names_the_bot_in_both_languages(bot: ChatApp, tmp_path: Path) -> None:
    target = tmp_path / "palier-teams.zip"
    call_command("teams-package", "it", str(target), "--app-version", "1.2.0")
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "fr.json", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        french = json.loads(archive.read("fr.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.2.0" and manifest["bots"][0]["scopes"] == ["personal"]
    assert manifest["validDomains"] == ["desk.example.test"]
    assert manifest["localizationInfo"]["additionalLanguages"] == [{"languageTag": "fr-fr", "file": "fr.json"}]
    assert french["name.short"] == "Palier" and "bots[0].commandLists[0].commands[0].title" in french
    assert color.size == (192, 192) and outline.size == (32, 32)
    assert outline.getpixel((0, 0))[3] == 0  # transparent around the white outline


def test_no_package_without_a_bot_id(bot: ChatApp, tmp_path: Path) -> None:
    ChatApp.objects.filter(pk=bot.pk).update(bot_app_id="")
    with pytest.raises(CommandError):
        call_command("teams-package", "it", str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()


def test_admins_download_the_package_and_others_do_not(bot: ChatApp, client: object, agent: object) -> None:
    from django.test import Client

    from palier.people import services as people
    from palier.people.models import User

    assert isinstance(client, Client)
    url = f"/hooks/admin/chat/{bot.pk}/teams-package/"
    client.force_login(agent)  # type: ignore[arg-type]
    assert client.get(url).status_code == 404
    admin = people.create_user(email="root@desk.test", full_name="Root", role=User.Role.ADMIN)
    client.force_login(admin)
    page = client.get("/hooks/admin/chat/").content.decode()
    assert url in page and "/hooks/teams/it/messages" in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert json.loads(archive.read("manifest.json"))["id"] == APP_ID

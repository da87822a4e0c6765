"""The Teams app package an administrator uploads to Teams: ``manifest.json`` (English, with
``fr.json`` as its French localisation), ``color.png`` (192×192) and ``outline.png`` (32×32,
white on transparent), zipped. The bot is the app's Entra ID application id."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw

from palier.integrations.models import ChatApp

SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
LOCALE_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.Localization.schema.json"
ACCENT = "#1F4E79"


def _texts() -> dict[str, str]:
    """The manifest's words in the active language."""
    return {
        "name.short": "Palier",
        "name.full": _("Palier service desk"),
        "description.short": _("Ask IT for help, follow your requests, approve."),
        "description.full": _(
            "Describe a problem in your own words: the service desk's articles come first, then a ticket "
            "if they did not help. Follow your open requests, answer the service desk, confirm a resolution "
            "and approve what waits for you."
        ),
        "help": _("help"),
        "help.description": _("What I can do"),
        "mine": _("my requests"),
        "mine.description": _("Your open requests"),
    }


def manifest(app: ChatApp, *, version: str = "1.0.0") -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest (English) and its French localisation file."""
    if app.kind != ChatApp.Kind.TEAMS or not app.bot_app_id:
        raise ValidationError(_("Only a Teams app with a bot application id has a package."))
    with translation.override("en"):
        en = _texts()
    with translation.override("fr"):
        fr = _texts()
    base = settings.PALIER_BASE_URL
    data = {
        "$schema": SCHEMA,
        "manifestVersion": "1.17",
        "version": version,
        "id": app.bot_app_id,
        "developer": {"name": "Palier", "websiteUrl": base, "privacyUrl": base, "termsOfUseUrl": base},
        "name": {"short": en["name.short"], "full": en["name.full"]},
        "description": {"short": en["description.short"], "full": en["description.full"]},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app.bot_app_id,
                "scopes": ["personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [
                            {"title": en["help"], "description": en["help.description"]},
                            {"title": en["mine"], "description": en["mine.description"]},
                        ],
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [urlsplit(base).hostname or "localhost"],
        "localizationInfo": {
            "defaultLanguageTag": "en-us",
            "additionalLanguages": [{"languageTag": "fr-fr", "file": "fr.json"}],
        },
    }
    french = {
        "$schema": LOCALE_SCHEMA,
        "name.short": fr["name.short"],
        "name.full": fr["name.full"],
        "description.short": fr["description.short"],
        "description.full": fr["description.full"],
        "bots[0].commandLists[0].commands[0].title": fr["help"],
        "bots[0].commandLists[0].commands[0].description": fr["help.description"],
        "bots[0].commandLists[0].commands[1].title": fr["mine"],
        "bots[0].commandLists[0].commands[1].description": fr["mine.description"],
    }
    return data, french


def _icon(size: int, *, outline: bool) -> bytes:
    """A step ("palier"): three stairs, white; on the accent colour, or on transparent."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0) if outline else ACCENT)
    draw = ImageDraw.Draw(image)
    margin, step = size // 6, (size - 2 * (size // 6)) // 3
    for n in range(3):
        left = margin + n * step
        top = size - margin - (n + 1) * step
        draw.rectangle((left, top, left + step - 1, size - margin - 1), fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def build(app: ChatApp, *, version: str = "1.0.0") -> bytes:
    """The zipped package."""
    data, french = manifest(app, version=version)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr("fr.json", json.dumps(french, ensure_ascii=False, indent=2))
        archive.writestr("color.png", _icon(192, outline=False))
        archive.writestr("outline.png", _icon(32, outline=True))
    return out.getvalue()

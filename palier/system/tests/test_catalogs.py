"""The French and English catalogs ship complete and compiled."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_catalog_is_complete_and_compiled(language: str) -> None:
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(po) > 100
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not missing, f"untranslated in {language}: {missing[:10]}"
    assert not fuzzy, f"fuzzy in {language}: {fuzzy[:10]}"
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in mo}
    stale = [
        e.msgid
        for e in po.translated_entries()
        if not e.msgid_plural and compiled.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert not stale, f"django.mo is older than django.po for {language}: {stale[:5]}"


def test_french_is_used_for_french_users() -> None:
    with translation.override("fr"):
        from palier.tickets.models import Ticket

        assert str(Ticket.Status.PENDING_REQUESTER.label) == "En attente du demandeur"
        assert str(Ticket.Status.RESOLVED.label) == "Résolu"

"""The administration pages' notice when virus scanning is off (``PALIER_CLAMD`` empty)."""

from __future__ import annotations

from django import template

from palier.lib import antivirus

register = template.Library()


@register.inclusion_tag("includes/antivirus_notice.html")
def antivirus_notice() -> dict[str, bool]:
    return {"scanning_off": not antivirus.enabled()}

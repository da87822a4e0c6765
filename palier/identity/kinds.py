"""Each kind of provider's module, by kind. A module named here exposes:

- ``clean_config(config: dict) -> dict``: the kind's settings (``Provider.config``) checked and
  normalised, or ``ValidationError({field: message})``; admin forms and the configuration file
  loader both call it;
- ``test_provider(provider) -> list[Check]``: the admin page's "test this provider" (discovery,
  certificate, clock, reachability…), each check saying in plain words what failed.

Modules are imported on use, so a kind's module may be missing while it is being built.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

MODULES = {
    "oidc": "palier.identity.oidc",
    "saml": "palier.identity.saml",
    "ldap": "palier.identity.ldap",
}


@dataclass(frozen=True)
class Check:
    """One step of "test this provider": what was checked, whether it passed, and in plain words
    what was found or what to fix."""

    name: str
    ok: bool
    detail: str = ""


def module(kind: str) -> ModuleType:
    return importlib.import_module(MODULES[kind])

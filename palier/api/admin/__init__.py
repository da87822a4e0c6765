"""The administration resources of the API (``palier/api/resources.py``), one module per domain;
each module's ``RESOURCES`` are mounted on ``router`` (at ``/api/v1/``) in the order listed here.
A resource whose path an older router already answers (``GET /change-boards``) is mounted by its
module on that router instead, at import: one path must stay one view (Django would send the
methods of a second view at the same path to the first one, which answers 405)."""

from __future__ import annotations

from ninja import Router

from palier.api.admin import (
    assets,
    automation,
    catalog,
    changes,
    integrations,
    mail,
    people,
    routing,
    sla,
    timelog,
    workspace,
)
from palier.api.resources import mount

router = Router()

for module in (people, routing, sla, timelog, changes, workspace, assets, integrations, automation, mail, catalog):
    for resource in getattr(module, "RESOURCES", ()):
        mount(router, resource)
    # a module's endpoints that are not one resource's five (``PUT /routing-rules/order``), and the
    # resources it mounts on its own router beside custom endpoints at the same path
    extra = getattr(module, "router", None)
    if extra is not None:
        router.add_router("", extra)

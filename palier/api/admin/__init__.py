"""The administration resources of the API (``palier/api/resources.py``), one module per domain;
each module's ``RESOURCES`` are mounted on ``router`` (at ``/api/v1/``) in the order listed here.
A resource whose path an older router already answers (``GET /change-boards``) is mounted by its
module on that router instead, at import: one path must stay one view (Django would send the
methods of a second view at the same path to the first one, which answers 405)."""

from __future__ import annotations

from ninja import Router

from palier.api.admin import assets, automation, changes, integrations, mail, people, workspace
from palier.api.resources import mount

router = Router()

for module in (people, changes, workspace):
    for resource in module.RESOURCES:
        mount(router, resource)

router.add_router("", assets.router)  # their resources share paths with their own endpoints
router.add_router("", integrations.router)
router.add_router("", automation.router)
router.add_router("", mail.router)

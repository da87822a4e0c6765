"""The administration resources of the API (``palier/api/resources.py``), one module per domain;
each module's ``RESOURCES`` are mounted on ``router`` (at ``/api/v1/``) in the order listed here."""

from __future__ import annotations

from ninja import Router

from palier.api.admin import people, routing, sla, timelog
from palier.api.resources import mount

router = Router()

for module in (people, routing, sla, timelog):
    for resource in module.RESOURCES:
        mount(router, resource)
    # a module's endpoints that are not one resource's five (``PUT /routing-rules/order``)
    extra = getattr(module, "router", None)
    if extra is not None:
        router.add_router("", extra)

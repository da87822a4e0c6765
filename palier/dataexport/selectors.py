"""Reads of the data export: the administrators' page."""

from __future__ import annotations

from django.http import Http404

from palier.dataexport.models import DataExport
from palier.people.models import Organisation

RECENT = 20


def recent_exports() -> list[DataExport]:
    return list(
        DataExport.objects.select_related("organisation", "requested_by").order_by("-created_at", "-id")[:RECENT]
    )


def get_export(export_id: int) -> DataExport:
    found = DataExport.objects.select_related("organisation").filter(pk=export_id).first()
    if found is None:
        raise Http404("export")
    return found


def organisation_choices() -> list[tuple[int, str]]:
    return list(Organisation.objects.order_by("name").values_list("id", "name"))


def get_organisation(organisation_id: int) -> Organisation:
    found = Organisation.objects.filter(pk=organisation_id).first()
    if found is None:
        raise Http404("organisation")
    return found

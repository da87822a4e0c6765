"""Catalog pages of the portal (browse, request, my approvals, signed approval links), mounted at
/catalog/ as ``catalog:`` next to the administration of ``palier/agent/urlconfs/catalog.py``."""

from django.urls import path

from palier.portal.views import catalog as portal

urlpatterns = [
    path("", portal.catalog_home, name="home"),
    path("items/<int:item_id>/", portal.item_page, name="item"),
    path("approvals/", portal.my_approvals, name="approvals"),
    path("approvals/<int:approval_id>/decide/", portal.decide, name="decide"),
    path("approvals/away/", portal.delegation, name="delegation"),
    path("approvals/away/<int:delegation_id>/end/", portal.end_delegation, name="delegation-end"),
    path("approve/<str:token>/", portal.approval_link, name="link"),
]

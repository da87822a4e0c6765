"""Asset pages, mounted at /agent/assets/ as ``assets:``; the administration of types, locations
and suppliers under /agent/assets/admin/."""

from django.urls import path

from palier.agent.views import assets as views
from palier.agent.views import assets_admin as admin

urlpatterns = [
    path("", views.asset_list, name="list"),
    path("export.<str:fmt>", views.asset_export, name="export"),
    path("new/", views.asset_new, name="new"),
    path("<int:asset_id>/", views.asset_detail, name="detail"),
    path("<int:asset_id>/edit/", views.asset_edit, name="edit"),
    path("<int:asset_id>/status/", views.asset_status, name="status"),
    path("<int:asset_id>/assign/", views.asset_assign, name="assign"),
    path("<int:asset_id>/relationships/", views.relation_add, name="relation-add"),
    path("<int:asset_id>/relationships/<int:relation_id>/remove/", views.relation_remove, name="relation-remove"),
    path("<int:asset_id>/files/", views.file_upload, name="file-upload"),
    path("<int:asset_id>/files/<int:file_id>/", views.file_download, name="file"),
    path("<int:asset_id>/impact/", views.asset_impact, name="impact"),
    path("admin/types/", admin.type_list, name="admin-types"),
    path("admin/types/<int:type_id>/", admin.type_edit, name="admin-type-edit"),
    path("admin/locations/", admin.location_list, name="admin-locations"),
    path("admin/locations/<int:location_id>/", admin.location_edit, name="admin-location-edit"),
    path("admin/locations/<int:location_id>/delete/", admin.location_delete, name="admin-location-delete"),
    path("admin/suppliers/", admin.supplier_list, name="admin-suppliers"),
    path("admin/suppliers/<int:supplier_id>/", admin.supplier_edit, name="admin-supplier-edit"),
]

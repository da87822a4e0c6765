"""Catalog administration (items, their fields, stages and tasks, categories), mounted at
/catalog/admin/ as ``catalog:``."""

from django.urls import path

from palier.agent.views import catalog as admin

urlpatterns = [
    path("admin/", admin.items, name="admin-items"),
    path("admin/categories/", admin.categories, name="admin-categories"),
    path("admin/categories/<int:category_id>/", admin.categories, name="admin-category"),
    path("admin/items/<int:item_id>/", admin.item_edit, name="admin-item"),
    path("admin/items/<int:item_id>/<str:kind>/<int:part_id>/", admin.part_edit, name="admin-part"),
    path(
        "admin/items/<int:item_id>/<str:kind>/<int:part_id>/move/<str:direction>/",
        admin.part_move,
        name="admin-part-move",
    ),
    path("admin/items/<int:item_id>/<str:kind>/<int:part_id>/remove/", admin.part_remove, name="admin-part-remove"),
]

from django.urls import path

from palier.catalog.views import admin, portal

app_name = "catalog"

urlpatterns = [
    path("", portal.catalog_home, name="home"),
    path("items/<int:item_id>/", portal.item_page, name="item"),
    path("approvals/", portal.my_approvals, name="approvals"),
    path("approvals/<int:approval_id>/decide/", portal.decide, name="decide"),
    path("approve/<str:token>/", portal.approval_link, name="link"),
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

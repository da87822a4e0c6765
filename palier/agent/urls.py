from django.urls import path

from palier.agent.views import admin, backups, dataexport
from palier.agent.workspace_urls import urlpatterns as workspace_urls

app_name = "agent"
urlpatterns = [
    *workspace_urls,
    path("admin/", admin.index, name="admin"),
    path("admin/users/", admin.users, name="admin-users"),
    path("admin/organisations/", admin.organisations, name="admin-organisations"),
    path("admin/groups/", admin.groups, name="admin-groups"),
    # administration pages (users, organisations, groups, categories, priority matrix)
    path("admin/users/<int:user_id>/", admin.user_edit, name="admin-user-edit"),
    path("admin/users/<int:user_id>/active/", admin.user_active, name="admin-user-active"),
    path("admin/users/<int:user_id>/mfa-reset/", admin.user_mfa_reset, name="admin-user-mfa-reset"),
    path("admin/organisations/<int:organisation_id>/", admin.organisation_edit, name="admin-organisation-edit"),
    path(
        "admin/organisations/<int:organisation_id>/departments/",
        admin.department_create,
        name="admin-department-create",
    ),
    path("admin/groups/<int:group_id>/", admin.group_edit, name="admin-group-edit"),
    path("admin/categories/", admin.categories, name="admin-categories"),
    path("admin/categories/<int:category_id>/", admin.category_edit, name="admin-category-edit"),
    path("admin/categories/<int:category_id>/active/", admin.category_active, name="admin-category-active"),
    path("admin/priorities/", admin.priorities, name="admin-priorities"),
    path("admin/backups/", backups.backups, name="admin-backups"),
    path("admin/data-export/", dataexport.data_export, name="admin-data-export"),
    path(
        "admin/data-export/<int:export_id>/download/",
        dataexport.data_export_download,
        name="admin-data-export-download",
    ),
]

"""Change pages, mounted at /agent/changes/ as ``changes:``; the administration of templates, the
risk questionnaire and the thresholds under /agent/changes/admin/."""

from django.urls import path

from palier.agent.views import changes as views
from palier.agent.views import changes_admin as admin

urlpatterns = [
    path("", views.change_list, name="list"),
    path("new/", views.change_new, name="new"),
    path("<int:change_id>/", views.change_detail, name="detail"),
    path("<int:change_id>/edit/", views.change_edit, name="edit"),
    path("<int:change_id>/status/", views.change_status, name="status"),
    path("<int:change_id>/risk/", views.change_risk, name="risk"),
    path("<int:change_id>/comments/", views.change_comment, name="comment"),
    path("<int:change_id>/assets/", views.change_link_assets, name="link-assets"),
    path("<int:change_id>/assets/<int:asset_id>/remove/", views.change_unlink_asset, name="unlink-asset"),
    path("<int:change_id>/tickets/", views.change_link_ticket, name="link-ticket"),
    path("<int:change_id>/problems/", views.change_link_problem, name="link-problem"),
    path("<int:change_id>/review/", views.change_review, name="review"),
    path("admin/templates/", admin.template_list, name="templates"),
    path("admin/templates/<int:template_id>/", admin.template_edit, name="template-edit"),
    path("admin/risk-questions/", admin.question_list, name="risk-questions"),
    path("admin/risk-questions/<int:question_id>/", admin.question_edit, name="risk-question-edit"),
    path("admin/risk-questions/<int:question_id>/move/", admin.question_move, name="risk-question-move"),
    path("admin/settings/", admin.thresholds, name="settings"),
]

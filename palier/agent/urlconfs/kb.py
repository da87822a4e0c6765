"""Knowledge-base management pages (articles, versions, files, categories, the ticket page's panel),
mounted at /kb/manage/ as ``kb:`` next to the reader of ``palier/portal/urlconfs/kb.py``."""

from django.urls import path

from palier.agent.views import kb as manage
from palier.agent.views import kb_categories as categories

urlpatterns = [
    path("manage/", manage.article_list, name="manage"),
    path("manage/new/", manage.article_new, name="manage-new"),
    path("manage/<int:article_id>/", manage.article_edit, name="manage-edit"),
    path("manage/<int:article_id>/status/", manage.article_transition, name="manage-transition"),
    path("manage/<int:article_id>/versions/", manage.article_versions, name="manage-versions"),
    path("manage/<int:article_id>/versions/<int:version_id>/restore/", manage.version_restore, name="manage-restore"),
    path("manage/<int:article_id>/files/", manage.file_upload, name="manage-file-upload"),
    path("manage/files/<int:file_id>/delete/", manage.file_delete, name="manage-file-delete"),
    path("manage/<int:article_id>/tickets/", manage.ticket_link, name="manage-ticket-link"),
    path("manage/tickets/<int:ticket_id>/panel/", manage.ticket_panel, name="ticket-panel"),
    path("manage/categories/", categories.category_list, name="categories"),
    path("manage/categories/<int:category_id>/", categories.category_edit, name="category-edit"),
    path("manage/categories/<int:category_id>/delete/", categories.category_delete, name="category-delete"),
]

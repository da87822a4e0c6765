"""Worklist pages (tasks on tickets, scheduled replies and reminders, my tasks, task templates),
mounted at /agent/work/ as ``worklist:``."""

from django.urls import path

from palier.agent.views import worklist as views

urlpatterns = [
    path("mine/", views.my_tasks, name="mine"),
    path("tickets/<int:ticket_id>/tasks/", views.task_add, name="task-add"),
    path("tickets/<int:ticket_id>/template/", views.template_apply, name="template-apply"),
    path("tickets/<int:ticket_id>/schedule/", views.schedule, name="schedule"),
    path("tasks/<int:task_id>/", views.task_edit, name="task-edit"),
    path("tasks/<int:task_id>/status/", views.task_status, name="task-status"),
    path("scheduled/<int:scheduled_id>/cancel/", views.scheduled_cancel, name="scheduled-cancel"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template-new"),
    path("templates/<int:template_id>/", views.template_edit, name="template-edit"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template-delete"),
]

"""Sign-in and identity administration, mounted at /agent/identity/ as ``identity:`` (each kind of
provider mounts its own pages under /agent/identity/<kind>/)."""

from django.urls import path

from palier.agent.views import identity as views

urlpatterns = [
    path("", views.index, name="index"),
    path("users/<int:user_id>/password/", views.user_password, name="user-password"),
    path("users/<int:user_id>/reset-link/", views.user_reset_link, name="user-reset-link"),
    path("users/<int:user_id>/sign-out/", views.user_sign_out, name="user-sign-out"),
]

"""Two-step sign-in, mounted at /accounts/2fa/ (namespace ``mfa``). Everything under
``verify/`` is open to a half-signed-in session (``identity/mfa/middleware.py``)."""

from django.urls import path

from palier.portal.views import mfa as views

urlpatterns = [
    path("", views.index, name="index"),
    path("totp/", views.totp, name="totp"),
    path("totp/confirm/", views.totp_confirm, name="totp-confirm"),
    path("totp/remove/", views.totp_remove, name="totp-remove"),
    path("recovery/", views.recovery, name="recovery"),
    path("recovery/new/", views.new_codes, name="new-codes"),
    path("skip/", views.skip, name="skip"),
    path("keys/options/", views.key_options, name="key-options"),
    path("keys/", views.key_register, name="key-register"),
    path("keys/<int:key_id>/remove/", views.key_remove, name="key-remove"),
    path("verify/", views.verify, name="verify"),
    path("verify/key/options/", views.verify_key_options, name="verify-key-options"),
    path("verify/key/", views.verify_key, name="verify-key"),
]

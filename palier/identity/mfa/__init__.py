"""The second factor: authenticator-app codes (TOTP), recovery codes and security keys
(WebAuthn / passkeys), the second step of sign-in, and its enforcement per role.

``models.py`` (the factors and each person's second-factor state), ``totp.py`` and
``recovery.py`` (the codes), ``keys.py`` (WebAuthn through py_webauthn), ``services.py``
(enrolment, removal, reset, the check of a code with its throttle), ``flow.py`` (what a fresh
session must still do: the state set at sign-in, the remember-this-browser cookie) and
``middleware.py`` (half-signed-in sessions reach only the second-step pages).
"""

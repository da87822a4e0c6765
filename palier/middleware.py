"""The browser middleware of ``MIDDLEWARE`` that bearer-token API requests skip (palier/lib/bearer.py).

Each name here runs the middleware it wraps for every other request, unchanged.
"""

from __future__ import annotations

from palier.lib.bearer import unless_bearer

SessionMiddleware = unless_bearer("django.contrib.sessions.middleware.SessionMiddleware")
AuthenticationMiddleware = unless_bearer("django.contrib.auth.middleware.AuthenticationMiddleware")
UserLanguageMiddleware = unless_bearer("palier.people.middleware.UserLanguageMiddleware")
MessageMiddleware = unless_bearer("django.contrib.messages.middleware.MessageMiddleware")
SessionPolicyMiddleware = unless_bearer("palier.identity.sessions.SessionPolicyMiddleware")
SecondStepMiddleware = unless_bearer("palier.identity.mfa.middleware.SecondStepMiddleware")
HtmxMiddleware = unless_bearer("django_htmx.middleware.HtmxMiddleware")

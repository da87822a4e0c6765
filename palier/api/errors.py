"""RFC 9457 problem details: every error the API answers is ``application/problem+json``.

``register(api)`` installs one handler per kind of failure (pydantic validation, Django
``ValidationError``, domain errors, 404, authentication, oversized or malformed bodies).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from palier.lib.errors import DomainError

CONTENT_TYPE = "application/problem+json"

TITLES: dict[int, Any] = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Authentication required"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    409: gettext_lazy("Conflict"),
    412: gettext_lazy("Precondition failed"),
    413: gettext_lazy("Request too large"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Invalid input"),
    428: gettext_lazy("Precondition required"),
    429: gettext_lazy("Too many requests"),
}


class Problem(Exception):
    """An HTTP problem raised by the API layer itself (not by the domain)."""

    def __init__(self, status: int, detail: str, *, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or {}


class UnsupportedMediaType(ValueError):
    """The request body is not JSON although the endpoint expects JSON."""


def problem(status: int, detail: str, errors: Mapping[str, Sequence[str]] | None = None) -> HttpResponse:
    body = {
        "type": "about:blank",
        "title": str(TITLES.get(status, _("Error"))),
        "status": status,
        "detail": detail,
        "errors": {field: [str(m) for m in messages] for field, messages in (errors or {}).items()},
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)


# --- pydantic validation errors -----------------------------------------------------------------

_MESSAGES: dict[str, Any] = {
    "missing": gettext_lazy("This field is required."),
    "extra_forbidden": gettext_lazy("Unknown field."),
    "int_type": gettext_lazy("Enter a whole number."),
    "int_parsing": gettext_lazy("Enter a whole number."),
    "int_from_float": gettext_lazy("Enter a whole number."),
    "string_type": gettext_lazy("Enter a text."),
    "bool_type": gettext_lazy("Enter true or false."),
    "bool_parsing": gettext_lazy("Enter true or false."),
    "list_type": gettext_lazy("Enter a list."),
    "model_type": gettext_lazy("Enter a JSON object."),
    "dict_type": gettext_lazy("Enter a JSON object."),
    "model_attributes_type": gettext_lazy("Enter a JSON object."),
    "datetime_type": gettext_lazy("Enter a date and time (ISO 8601)."),
    "datetime_parsing": gettext_lazy("Enter a date and time (ISO 8601)."),
    "datetime_from_date_parsing": gettext_lazy("Enter a date and time (ISO 8601)."),
    "string_pattern_mismatch": gettext_lazy("This value does not have the expected format."),
    "json_invalid": gettext_lazy("The request body is not valid JSON."),
}


def _pydantic_message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return str(_MESSAGES[kind])
    if kind in {"literal_error", "enum"}:
        return _("Choose one of: %(expected)s.") % {"expected": ctx.get("expected", "")}
    if kind in {"string_too_long", "too_long"}:
        return _("At most %(n)s characters or items.") % {"n": ctx.get("max_length", "")}
    if kind in {"string_too_short", "too_short"}:
        return _("At least %(n)s characters or items.") % {"n": ctx.get("min_length", "")}
    if kind in {"greater_than_equal", "greater_than"}:
        return _("Enter a value of at least %(n)s.") % {"n": ctx.get("ge", ctx.get("gt", ""))}
    if kind in {"less_than_equal", "less_than"}:
        return _("Enter a value of at most %(n)s.") % {"n": ctx.get("le", ctx.get("lt", ""))}
    if kind == "value_error":
        return str(ctx.get("error", "")) or _("This value is not valid.")
    return _("This value is not valid.")


def _field_name(loc: Sequence[Any]) -> str:
    """``("body", "payload", "tags", 2)`` -> ``"tags.2"``; ``("query", "limit")`` -> ``"limit"``."""
    parts = list(loc[2:] if loc and loc[0] == "body" else loc[1:])
    return ".".join(str(p) for p in parts) or NON_FIELD_ERRORS


def pydantic_errors(errors: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(_field_name(error.get("loc", ())), []).append(_pydantic_message(error))
    return out


def django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {NON_FIELD_ERRORS: [str(m) for m in exc.messages]}


# --- handlers -------------------------------------------------------------------------------------


def _on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return problem(422, _("Some fields are not valid."), pydantic_errors(exc.errors))


def _on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return problem(422, _("Some fields are not valid."), django_errors(exc))


def _on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    errors = {exc.field: [exc.message]} if exc.field else None
    return problem(exc.status, exc.message, errors)


def _on_problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return problem(exc.status, exc.detail, exc.errors)


def _on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, _("This resource does not exist or you are not allowed to see it."))


def _on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(401, _("Sign in, or send “Authorization: Bearer <token>” with a valid API token."))
    response["WWW-Authenticate"] = 'Bearer realm="palier"'
    return response


def _on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    """Over a rate limit (``api/ratelimit.py``); ninja adds the Retry-After header."""
    return problem(429, _("Too many requests; wait before trying again (see Retry-After)."))


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, UnsupportedMediaType):
        return problem(415, _("Send the request body as application/json."))
    if isinstance(cause, RequestDataTooBig):
        return _on_too_big(request, cause)
    if isinstance(cause, ValueError):
        return problem(400, _("The request body is not valid JSON."))
    return problem(exc.status_code, str(exc))


def _on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(413, _("The request body is too large."))


def _on_too_many_fields(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(400, _("The request has too many fields."))


HANDLERS: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
    (NinjaValidationError, _on_validation),
    (DjangoValidationError, _on_django_validation),
    (DomainError, _on_domain),
    (Problem, _on_problem),
    (Http404, _on_404),
    (AuthenticationError, _on_authentication),
    (Throttled, _on_throttled),
    (HttpError, _on_http_error),
    (RequestDataTooBig, _on_too_big),
    (TooManyFieldsSent, _on_too_many_fields),
]


def register(api: NinjaAPI) -> None:
    for exc_class, handler in HANDLERS:
        api.add_exception_handler(exc_class, handler)


@csrf_exempt  # a POST to an unknown URL is a 404 problem, not the CSRF failure page
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Unknown URLs under /api/v1/ answer a problem too, not an HTML page."""
    return problem(404, _("There is no such endpoint."))

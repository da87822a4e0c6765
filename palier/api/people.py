"""People: the caller's profile, users, personal API tokens, organisations, support groups (the
administration resources of users, organisations and groups are in ``palier/api/admin/people.py``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from palier.api import lookups
from palier.api.admin.people import MemberOut
from palier.api.auth import current_token, current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.schemas.people import (
    MemberIn,
    MePatch,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserDetail,
    UserOut,
    UserPage,
)
from palier.identity.mfa import services as mfa
from palier.people import selectors, services
from palier.people.models import ApiToken, User

router = Router()


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class UserQuery(PageQuery):
    q: str = Field("", max_length=200, description="Words to find in the name or email.")
    role: str | None = None


def _require_agent(user: User) -> None:
    if not user.is_agent:
        raise Problem(403, _("Only agents can list these."))


# --- me -----------------------------------------------------------------------------------------


@router.get("/users/me", response=UserDetail)
def me(request: HttpRequest) -> User:
    """Your own profile, with your support groups."""
    return selectors.get_profile_for(current_user(request), current_user(request).pk)


@router.patch("/users/me", response=UserDetail)
def update_me(request: HttpRequest, payload: MePatch) -> User:
    """Change your name, language or phone."""
    user = current_user(request)
    services.update_user(user, by=user, **payload.model_dump(exclude_unset=True))
    return selectors.get_profile_for(user, user.pk)


# --- users --------------------------------------------------------------------------------------


@router.get("/users", response=UserPage)
def list_users(request: HttpRequest, query: Query[UserQuery]) -> dict[str, Any]:
    """Search people by name or email (agents)."""
    _require_agent(current_user(request))
    qs = selectors.users_matching(query.q, role=query.role)
    items, cursor = keyset_page(qs, order=("full_name", "email", "id"), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/users", response={201: UserOut})
def create_user(request: HttpRequest, payload: UserCreate) -> Status[Any]:
    """Create a user (administrators)."""
    fields = payload.model_dump(exclude={"organisation", "department"})
    if payload.organisation is not None:
        fields["organisation"] = lookups.organisation_by_id(payload.organisation)
    if payload.department is not None:
        fields["department"] = lookups.department_by_id(payload.department)
    return Status(201, services.create_user(by=current_user(request), **fields))


@router.post("/users/{int:user_id}/mfa-reset", response={204: None})
def reset_second_factor(request: HttpRequest, user_id: int) -> Status[Any]:
    """Remove every second factor of a person (administrators; audited): a lost phone or key. They
    set one up again at their next sign-in when their role requires it."""
    user = current_user(request)
    if not user.is_admin:
        raise Problem(403, _("Only administrators may reset a second factor."))
    mfa.reset(selectors.get_user_for_admin(user_id), by=user)
    return Status(204, None)


# --- tokens -------------------------------------------------------------------------------------


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest) -> list[Any]:
    """Your personal API tokens (never their secrets)."""
    return selectors.tokens_for(current_user(request))


@router.post("/tokens", response={201: TokenCreated})
def create_token(request: HttpRequest, payload: TokenCreate) -> Status[Any]:
    """Issue a token. The secret is in this answer only: Palier keeps a hash. Needs a session or a
    token with the ``tokens`` scope. It expires after ``days`` days (default: the desk's setting)."""
    user = current_user(request)
    caller = current_token(request)
    if caller is not None and caller.scope != ApiToken.Scope.TOKENS:
        raise Problem(
            403,
            _("Creating tokens needs a signed-in session or a token with the tokens scope."),
            errors={"scope": [_("This token cannot create tokens.")]},
        )
    issued = services.create_api_token(user, scope=payload.scope, name=payload.name, by=user, days=payload.days)
    body = TokenOut.from_orm(issued.token).model_dump()
    return Status(201, {**body, "secret": issued.secret})


@router.delete("/tokens/{int:token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status[Any]:
    """Revoke one of your tokens; it stops working at once."""
    user = current_user(request)
    services.revoke_api_token(selectors.get_token_for(user, token_id), by=user)
    return Status(204, None)


# --- organisations ------------------------------------------------------------------------------


@router.get("/organisations", response=OrganisationPage)
def list_organisations(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """All organisations for agents; your own for requesters."""
    qs = selectors.organisations_visible_to(current_user(request))
    items, cursor = keyset_page(qs, order=("name", "id"), cursor=page.cursor, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/organisations", response={201: OrganisationOut})
def create_organisation(request: HttpRequest, payload: OrganisationCreate) -> Status[Any]:
    """Create an organisation (administrators)."""
    return Status(201, services.create_organisation(by=current_user(request), **payload.model_dump()))


# --- groups -------------------------------------------------------------------------------------


@router.get("/groups/{int:group_id}/members", response=MemberPage)
def list_members(request: HttpRequest, group_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """A group's members, first to join first (agents). A membership carries no level of its own:
    ``level`` is the group's."""
    _require_agent(current_user(request))
    memberships = selectors.group_memberships(selectors.get_group(group_id))
    items, cursor = keyset_page(memberships, order=("id",), cursor=page.cursor, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/groups/{int:group_id}/members", response={204: None})
def add_member(request: HttpRequest, group_id: int, payload: MemberIn) -> Status[Any]:
    """Add an agent to a group (administrators)."""
    group = selectors.get_group(group_id)
    services.add_group_member(group, user=lookups.user_by_id(payload.user), by=current_user(request))
    return Status(204, None)


@router.delete("/groups/{int:group_id}/members/{int:user_id}", response={204: None})
def remove_member(request: HttpRequest, group_id: int, user_id: int) -> Status[Any]:
    """Remove an agent from a group (administrators)."""
    group = selectors.get_group(group_id)
    services.remove_group_member(group, user=lookups.user_by_id(user_id), by=current_user(request))
    return Status(204, None)

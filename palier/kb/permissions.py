"""Who may read and who may manage knowledge-base articles: the one rule source.

* Requesters read published articles that are public, or restricted to their organisation.
* Agents (and managers, admins) read every published article, internal ones included, and
  manage all articles whatever their status.
* Files of an article are served to whoever may read it; agents also see files of drafts.
"""

from __future__ import annotations

from django.db.models import Q

from palier.kb.models import Article
from palier.people.models import User

V = Article.Visibility


def readable(user: User, *, prefix: str = "") -> Q:
    """A filter on Article (or on a model pointing at it, with ``prefix="article__"``)."""
    published = Q(**{f"{prefix}status": Article.Status.PUBLISHED})
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_agent:
        return published
    allowed = Q(**{f"{prefix}visibility": V.PUBLIC})
    if user.organisation_id is not None:
        allowed |= Q(
            **{
                f"{prefix}visibility": V.ORGANISATIONS,
                f"{prefix}pk__in": Article.organisations.through.objects.filter(
                    organisation_id=user.organisation_id
                ).values("article_id"),
            }
        )
    return published & allowed


def can_manage(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_agent)

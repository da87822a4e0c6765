"""The review after implementation and the comments of a change."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.changes import history
from palier.changes.models import Change, ChangeComment, ChangeEvent
from palier.lib.errors import IllegalTransition
from palier.people.models import User

from .changes import MAX_TEXT, _bump, _lock, _require

REVIEWABLE: frozenset[str] = frozenset({Change.Status.REVIEW, Change.Status.CLOSED})
MAX_COMMENT = 20_000


@transaction.atomic
def review_change(
    change: Change, *, by: User | None, version: int | None = None, review_notes: str = "", lessons: str = ""
) -> Change:
    """Record the post-implementation review: what happened, and the lessons learned. Possible in
    review and after closing (a review is often finished once the change is closed)."""
    _require(by, "edit")
    notes, learned = (review_notes or "").strip(), (lessons or "").strip()
    errors: dict[str, str] = {}
    if not notes:
        errors["review_notes"] = _("Say how the change went.")
    for name, text in (("review_notes", notes), ("lessons", learned)):
        if len(text) > MAX_TEXT:
            errors[name] = _("At most %(n)d characters.") % {"n": MAX_TEXT}
    if errors:
        raise ValidationError(errors)
    locked = _lock(change, version)
    if locked.status not in REVIEWABLE:
        raise IllegalTransition(_("A change is reviewed once it was implemented."))
    if locked.review_notes == notes and locked.lessons == learned:
        return locked
    first = locked.reviewed_at is None
    locked.review_notes, locked.lessons, locked.reviewed_at = notes, learned, timezone.now()
    _bump(locked, ["review_notes", "lessons", "reviewed_at"])
    history.record(locked, ChangeEvent.Kind.REVIEWED, actor=by, data={"first": first})
    return locked


@transaction.atomic
def comment_on_change(change: Change, *, by: User | None, body: str) -> ChangeComment:
    """An internal comment on the change (changes are internal records)."""
    _require(by, "edit")
    text = (body or "").strip()
    if not text:
        raise ValidationError({"body": _("Write something first.")})
    if len(text) > MAX_COMMENT:
        raise ValidationError({"body": _("At most %(n)d characters.") % {"n": MAX_COMMENT}})
    comment = ChangeComment.objects.create(change=change, author=by if by is not None and by.pk else None, body=text)
    history.record(change, ChangeEvent.Kind.COMMENT, actor=by, data={"comment": comment.pk})
    return comment

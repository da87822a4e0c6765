"""The problem record's side pieces: files attached to it (checked like ticket attachments by
``lib/files.py``: size limit, blocked or disguised types, virus scan) and its watchers."""

from __future__ import annotations

from typing import IO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from palier.lib import files
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.problems import history, permissions
from palier.problems.models import Problem, ProblemAttachment, ProblemEvent

MAX_FILES_PER_PROBLEM = 100


def _require_edit(by: User | None) -> None:
    if not permissions.can(by, "edit"):
        raise PermissionDenied(_("You may not do this with problems."))


@transaction.atomic
def attach_file(problem: Problem, upload: IO[bytes], *, by: User | None) -> ProblemAttachment:
    """Store a checked file on ``problem``; refused (``ValidationError`` on ``file``) when the
    upload is empty, too large, dangerous, disguised or infected."""
    _require_edit(by)
    checked = files.read_upload(upload)
    if ProblemAttachment.objects.filter(problem=problem).count() >= MAX_FILES_PER_PROBLEM:
        raise ValidationError({"file": _("A problem holds at most %(n)d files.") % {"n": MAX_FILES_PER_PROBLEM}})
    stored = ProblemAttachment(
        problem=problem, name=checked.name, size=checked.size, content_type=checked.content_type, uploaded_by=by
    )
    stored.file.save(checked.name, File(upload, name=checked.name), save=False)
    stored.save()
    history.record(problem, ProblemEvent.Kind.ATTACHED, actor=by, data={"file": checked.name})
    return stored


@transaction.atomic
def set_watching(problem: Problem, *, by: User | None, watching: bool) -> bool:
    """Start or stop watching the problem; returns whether anything changed."""
    _require_edit(by)
    assert by is not None
    already = problem.watchers.filter(pk=by.pk).exists()
    if already == watching:
        return False
    if watching:
        problem.watchers.add(by)
    else:
        problem.watchers.remove(by)
    history.record(problem, ProblemEvent.Kind.WATCHER, actor=by, data={"added": watching, "user": by.display_name})
    return True

"""Files attached to an asset (invoices, photos, contracts), checked like ticket attachments by
``lib/files.py``: size limit, blocked or disguised types, virus scan."""

from __future__ import annotations

from typing import IO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils.translation import gettext as _

from palier.lib import files
from palier.lib.errors import PermissionDenied
from palier.people.models import User

from .. import history, permissions
from ..models import Asset, AssetEvent, AssetFile

MAX_FILES_PER_ASSET = 100


@transaction.atomic
def attach_file(actor: User, asset: Asset, upload: IO[bytes]) -> AssetFile:
    """Store a checked file on ``asset``; refused (``ValidationError`` on ``file``) when the
    upload is empty, too large, dangerous, disguised or infected."""
    if not permissions.can(actor, "change", asset):
        raise PermissionDenied(_("You may not change this asset."))
    checked = files.read_upload(upload)
    if AssetFile.objects.filter(asset=asset).count() >= MAX_FILES_PER_ASSET:
        raise ValidationError({"file": _("An asset holds at most %(n)d files.") % {"n": MAX_FILES_PER_ASSET}})
    stored = AssetFile(
        asset=asset, name=checked.name, size=checked.size, content_type=checked.content_type, uploaded_by=actor
    )
    stored.file.save(checked.name, File(upload, name=checked.name), save=False)
    stored.save()
    history.record(asset, AssetEvent.Kind.ATTACHED, actor=actor, data={"file": checked.name})
    return stored

#!/bin/sh
# Verify the newest scheduled backup, then copy the backup folder off this machine.
# Run daily by palier-backup-copy.timer; exits non-zero (the unit fails) on any problem.
set -eu

: "${PALIER_BACKUP_DIR:?PALIER_BACKUP_DIR is not set}"
: "${PALIER_BACKUP_COPY_TO:?PALIER_BACKUP_COPY_TO is not set (an rsync destination)}"
PALIER_BIN=${PALIER_BIN:-/opt/palier/venv/bin/palier}

# Archive names sort by time (palier-YYYYMMDDTHHMMSSZ.tar.gz).
newest=$(find "$PALIER_BACKUP_DIR" -maxdepth 1 -type f -name 'palier-*Z.tar.gz' | sort | tail -n 1)
if [ -z "$newest" ]; then
    echo "backup-copy: no archive in $PALIER_BACKUP_DIR" >&2
    exit 1
fi
unset PROMETHEUS_MULTIPROC_DIR
"$PALIER_BIN" backup --verify "$newest"
# --delete-after mirrors the retention of the periodic job; drop it to keep every archive there.
rsync --archive --delete-after --include='palier-*Z.tar.gz' --exclude='*' \
    "$PALIER_BACKUP_DIR"/ "$PALIER_BACKUP_COPY_TO"
echo "backup-copy: $newest verified, $PALIER_BACKUP_DIR copied to $PALIER_BACKUP_COPY_TO"

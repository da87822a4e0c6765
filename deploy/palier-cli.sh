#!/bin/sh
# `palier` for the operator of a systemd install: runs a palier command as the palier user with
# the environment of /etc/palier/palier.env, like the services. Install it as
# /usr/local/bin/palier (docs/deployment.md), then: sudo palier migrate, sudo palier check --deploy.
# Paths given to it (an archive to restore) must be absolute and readable by the palier user.
# PALIER_ENV_FILE names another environment file (a restore drill).
set -eu

ENV_FILE=${PALIER_ENV_FILE:-/etc/palier/palier.env}
PALIER_BIN=${PALIER_BIN:-/opt/palier/venv/bin/palier}

if [ "$(id -un)" != palier ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "palier: run me with sudo (or as the palier user)" >&2
        exit 1
    fi
    exec runuser -u palier -- "$0" "$@"
fi

set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
# The counts of a one-off command are of no interest to /metrics.
unset PROMETHEUS_MULTIPROC_DIR
exec "$PALIER_BIN" "$@"

#!/bin/sh
# Entrypoint of the Palier image (deploy/Containerfile). One process per container:
#   web        gunicorn on $PALIER_BIND (0.0.0.0:8000), $WEB_CONCURRENCY × $WEB_THREADS
#   worker     background tasks; run as many containers as the queue needs
#   scheduler  the periodic jobs; one
#   migrate    create or update the database schema, then exit (before starting a new version)
#   backup     one archive into $PALIER_BACKUP_DIR (or the path given), then exit
# Anything else is a palier command (`check --deploy`, `createsuperuser`, `restore PATH`…).
set -eu

command=${1:-web}
[ "$#" -gt 0 ] && shift

case "$command" in
    web)
        # prometheus-client's multiprocess folder: emptied at each start of the container
        if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
            mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
            find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
        fi
        exec gunicorn palier.wsgi:application \
            --bind "${PALIER_BIND:-0.0.0.0:8000}" \
            --workers "${WEB_CONCURRENCY:-2}" --threads "${WEB_THREADS:-4}" \
            --graceful-timeout 5 --access-logfile - --no-control-socket "$@"
        ;;
    worker)
        exec palier worker "$@"
        ;;
    scheduler)
        exec palier scheduler "$@"
        ;;
    migrate)
        exec palier migrate --no-input "$@"
        ;;
    backup)
        if [ "$#" -eq 0 ] && [ -n "${PALIER_BACKUP_DIR:-}" ]; then
            set -- "$PALIER_BACKUP_DIR/palier-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
        fi
        exec palier backup "$@"
        ;;
    *)
        exec palier "$command" "$@"
        ;;
esac

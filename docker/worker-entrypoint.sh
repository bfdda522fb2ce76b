#!/bin/sh
# Worker container start: check the model cache before taking jobs, then become the given command (Celery).
# The image carries the cache (fetched at build time); a named volume over MODELS_DIR starts as a copy of it.
# If the volume is stale or damaged, fetch repairs it (it re-downloads only what is missing) or exits non-zero
# with the fix, so a worker never takes jobs it cannot run.
set -eu
if ! python -m worker models verify; then
    echo "worker-entrypoint: model cache in ${MODELS_DIR} is incomplete; running models fetch" >&2
    python -m worker models fetch
fi
exec "$@"

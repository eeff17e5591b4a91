#!/usr/bin/env bash
# Set up .venv (first run only) and run the whole platform: `scripts/up.sh [vitrina up options]`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/vitrina up "$@"

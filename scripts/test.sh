#!/usr/bin/env bash
# The full test suite from scratch: system packages, .venv with the dev + spark extras, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-deps.sh
VITRINA_EXTRAS=dev,spark scripts/bootstrap.sh
exec .venv/bin/python -m pytest -q tests "$@"

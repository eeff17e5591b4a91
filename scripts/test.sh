#!/usr/bin/env bash
# The full test suite from scratch: system packages, .venv with the dev + spark extras, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-deps.sh
VITRINA_EXTRAS=dev,spark,s3,opensearch,hadoop scripts/bootstrap.sh
# HDFS + OpenSearch jars from Maven Central and the S3/OpenSearch clients (tests/backends).
VITRINA_EXTRAS=dev,spark,s3,opensearch,hadoop scripts/install-backends.sh
exec .venv/bin/python -m pytest -q tests "$@"

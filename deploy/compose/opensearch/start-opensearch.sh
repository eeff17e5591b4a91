#!/usr/bin/env bash
# The initial admin password comes from the compose secret (OpenSearch >= 2.12 requires one).
set -euo pipefail
OPENSEARCH_INITIAL_ADMIN_PASSWORD="$(cat /run/secrets/vitrina/opensearch-admin.password)"
export OPENSEARCH_INITIAL_ADMIN_PASSWORD
exec /usr/share/opensearch/opensearch-docker-entrypoint.sh opensearch

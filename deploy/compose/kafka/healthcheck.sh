#!/usr/bin/env bash
# Healthy = this broker answers an authenticated ApiVersions request on its client listener.
set -euo pipefail
exec /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server "${NODE_HOST}:9093" \
  --command-config /run/secrets/vitrina/admin.properties >/dev/null

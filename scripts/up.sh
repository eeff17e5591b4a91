#!/usr/bin/env bash
# Set up .venv (first run only) and run the whole platform: `scripts/up.sh [vitrina up options]`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The embedded broker is a single-node Apache Kafka (docs/embedded-broker.md): its jars once.
if [ "${VITRINA__BROKER__ENGINE:-kafka}" = kafka ]; then
  scripts/install-kafka.sh
fi
exec .venv/bin/vitrina up "$@"

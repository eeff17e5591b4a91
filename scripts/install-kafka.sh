#!/usr/bin/env bash
# Apache Kafka 4.1 (broker + tools), MirrorMaker 2 and the Prometheus JMX exporter from Maven
# Central into ~/.cache/vitrina/jars (deploy/kafka/pom.xml; checksums verified by Maven; the
# HDFS and OpenSearch jars are scripts/install-backends.sh's, for the tests). Nothing
# is committed. Idempotent: a complete cache is reused. Needs Java 17 and Maven (and .venv:
# run scripts/bootstrap.sh first); without them it says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  echo "error: ${missing[*]} not installed (Debian: apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "==> Kafka, MirrorMaker 2 and the JMX exporter jars (Maven Central)"
exec .venv/bin/vitrina cluster install kafka

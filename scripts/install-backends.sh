#!/usr/bin/env bash
# The distributed profile's storage and search servers, for `vitrina cluster up` and the
# tests in tests/backends: Hadoop HDFS 3.4 and OpenSearch 2.19 jars resolved from Maven
# Central into ~/.cache/vitrina/jars (deploy/hadoop/pom.xml, deploy/opensearch/pom.xml), and
# the Python clients (s3fs + moto's S3 server, opensearch-py, requests for WebHDFS).
# Needs Java 17 and Maven; idempotent (a resolved component is not resolved again).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool not found (Debian: apt-get install -y openjdk-17-jre-headless maven)" >&2
    exit 1
  fi
done
VITRINA_EXTRAS=${VITRINA_EXTRAS:-dev,spark,s3,opensearch,hadoop} scripts/bootstrap.sh
echo "==> resolving Hadoop and OpenSearch jars from Maven Central (first run: ~1-2 min)"
.venv/bin/python - <<'PY'
from vitrina.cluster import jars

for component in ("hadoop", "opensearch"):
    print(f"    {component}: {jars.resolve(component)}")
PY

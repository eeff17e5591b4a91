#!/usr/bin/env bash
# MirrorMaker 2 in dedicated mode, with the JMX exporter on 7072 (also its health check).
set -euo pipefail
export KAFKA_OPTS="${KAFKA_OPTS:-} -javaagent:/opt/jmx/jmx_prometheus_javaagent.jar=7072:/opt/jmx/jmx-exporter.yml"
exec /opt/kafka/bin/connect-mirror-maker.sh /opt/vitrina/mm2.properties

#!/usr/bin/env bash
# Confluent Schema Registry over SASL_SSL: the JAAS line (with the password) is built here
# from the compose secret, so no password is written in the compose file.
set -euo pipefail
password="$(cat /run/secrets/vitrina/schema-registry.password)"
export SCHEMA_REGISTRY_KAFKASTORE_SASL_JAAS_CONFIG="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"schema-registry\" password=\"${password}\";"
exec /etc/confluent/docker/run

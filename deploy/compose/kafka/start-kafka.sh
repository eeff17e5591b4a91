#!/usr/bin/env bash
# Start one KRaft node (broker + controller) of a Vitrina cluster.
#
# Listeners: CLIENT (9093, SASL_SSL + SCRAM-SHA-512) for services and MirrorMaker 2;
# INTERNAL (9092, mTLS) for replication; CONTROLLER (9094, mTLS) for the Raft quorum.
# SCRAM users live in the metadata log, so they are added when the storage is formatted
# (from the secret kafka-storage-scram.args written by `vitrina security init`).
# Environment: NODE_ID, NODE_HOST, QUORUM_VOTERS, CLUSTER_ID (none of them secret).
set -euo pipefail
: "${NODE_ID:?}" "${NODE_HOST:?}" "${QUORUM_VOTERS:?}" "${CLUSTER_ID:?}"
SECRETS=/run/secrets/vitrina
CONF=/opt/kafka/config/vitrina-server.properties
DATA=/var/lib/kafka/data

cat > "$CONF" <<PROPS
process.roles=broker,controller
node.id=${NODE_ID}
controller.quorum.voters=${QUORUM_VOTERS}
listeners=INTERNAL://:9092,CLIENT://:9093,CONTROLLER://:9094
advertised.listeners=INTERNAL://${NODE_HOST}:9092,CLIENT://${NODE_HOST}:9093
listener.security.protocol.map=INTERNAL:SSL,CLIENT:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER

ssl.keystore.type=PEM
ssl.keystore.location=${SECRETS}/${NODE_HOST}.keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=${SECRETS}/ca.pem
ssl.endpoint.identification.algorithm=https
# Brokers and controllers prove who they are with their certificates...
ssl.client.auth=required
# ...clients with SCRAM passwords (TLS server auth only on the client listener).
listener.name.client.ssl.client.auth=none
ssl.principal.mapping.rules=RULE:^CN=(kafka-[0-9]+|kafka-mirror-[0-9]+),.*$/broker/,DEFAULT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# broker: the nodes themselves (mTLS); admin: runs the first \`vitrina acl apply\`.
super.users=User:broker;User:admin

# 3 replicas, 2 in sync: one broker may be down without stopping producers (acks=all).
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
auto.create.topics.enable=false
num.partitions=6
log.dirs=${DATA}
# 7 days default; topics as code set their own retention.
log.retention.hours=168
group.initial.rebalance.delay.ms=3000
PROPS

# Format once (idempotent with --ignore-formatted), bootstrapping the SCRAM users.
eval "set -- $(tr '\n' ' ' < "${SECRETS}/kafka-storage-scram.args")"
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" \
  --config "$CONF" "$@"

export KAFKA_OPTS="${KAFKA_OPTS:-} -javaagent:/opt/jmx/jmx_prometheus_javaagent.jar=7071:/opt/jmx/jmx-exporter.yml"
exec /opt/kafka/bin/kafka-server-start.sh "$CONF"

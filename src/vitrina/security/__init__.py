"""Security material and access control for the distributed deployment.

`pki` makes the CA and certificates, `credentials` the SCRAM users and client property files,
`acl` the least-privilege ACL plan. All pure except the functions that say they write files.
"""

from __future__ import annotations

# Every Vitrina service and command connects as its own SASL user (StreamWorker passes the
# service name; `shop load` is shop-load, `dlq replay` dlq-replay, the operator's CLI admin).
# tests/unit/test_acl_plan.py checks that every principal named in the code is listed here.
SERVICE_PRINCIPALS: tuple[str, ...] = (
    "shop-api",
    "shop-load",
    "filter",
    "indexer",
    "lake-sink",
    "analytics",
    "client-api",
    "traffic",
    "mirror",
    "dlq-replay",
    "admin",
)
# Infrastructure that talks Kafka too (not Vitrina code, but least privilege all the same).
INFRA_PRINCIPALS: tuple[str, ...] = ("schema-registry",)
ALL_PRINCIPALS: tuple[str, ...] = SERVICE_PRINCIPALS + INFRA_PRINCIPALS
# Brokers and controllers authenticate to each other with their certificates (mTLS); the
# principal mapping rule in server.properties turns CN=kafka-N into this one user.
BROKER_PRINCIPAL = "broker"

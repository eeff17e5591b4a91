"""Register Vitrina's JSON Schemas in the Schema Registry (compose init container).

Subjects follow the TopicNameStrategy: `<topic>-value`, for every declared topic whose value
has a schema in `vitrina/contracts/schemas`. Idempotent: the registry returns the existing
id for a schema it already has. Exits non-zero (so dependants do not start) on any failure.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx

from vitrina.contracts import codec
from vitrina.settings import load_settings
from vitrina.topics import declared_topics

SCHEMAS = Path(codec.__file__).parent / "schemas"


def subjects(schema_dir: Path = SCHEMAS) -> dict[str, Path]:
    """subject -> schema file, from the topic registry (pure)."""
    out = {}
    for spec in declared_topics(load_settings()):
        path = schema_dir / f"{spec.value}.json"
        if path.is_file():
            out[f"{spec.name}-value"] = path
    return out


def main(url: str) -> int:
    with httpx.Client(base_url=url, timeout=10) as client:
        for _attempt in range(60):  # 60 × 2 s: the registry waits for Kafka on first start
            try:
                client.get("/subjects").raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(2)
        else:
            print(f"schema registry at {url} did not answer", file=sys.stderr)
            return 1
        for subject, path in subjects().items():
            body = {"schemaType": "JSON", "schema": json.dumps(json.loads(path.read_text()))}
            resp = client.post(
                f"/subjects/{subject}/versions",
                json=body,
                headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
            )
            if resp.status_code >= 300:
                print(f"{subject}: {resp.status_code} {resp.text}", file=sys.stderr)
                return 1
            print(f"{subject}: id {resp.json()['id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://schema-registry:8081"))

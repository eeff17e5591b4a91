"""Operator routes, behind the admin bearer token: bans, pipeline health, topics, dead letters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from prometheus_client import generate_latest
from pydantic import BaseModel, ConfigDict, Field

from vitrina.api import ops
from vitrina.api.deps import AppState, require_admin, state
from vitrina.api.errors import error_responses
from vitrina.domain.limits import PRODUCT_ID_CHARS, is_product_id
from vitrina.errors import BadRequestError

router = APIRouter(
    prefix="/api/v1", tags=["operator"], responses=error_responses(400, 401, 404, 422, 503)
)

Operator = Annotated[str, Depends(require_admin)]
App = Annotated[AppState, Depends(state)]
ProductId = Annotated[str, Path(max_length=64, description="ASCII token: letters, digits, -_.")]

_previous_scrapes: dict[str, tuple[float, dict[str, float]]] = {}


def _check_id(product_id: str) -> None:
    if not is_product_id(product_id):
        raise BadRequestError(
            f"product id {product_id[:40]!r} is not valid",
            hint=f"product ids are {PRODUCT_ID_CHARS}; e.g. 85123A",
        )


class BanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)
    banned_by: str | None = Field(None, min_length=1, max_length=200)


@router.post("/bans/{product_id}", status_code=201)
def ban(app: App, operator: Operator, product_id: ProductId, body: BanIn) -> dict[str, Any]:
    _check_id(product_id)
    records = app.bans().ban([product_id], body.reason, body.banned_by or operator)
    out = [r.model_dump(mode="json") if hasattr(r, "model_dump") else r for r in records]
    return {"banned": out}


@router.delete("/bans/{product_id}")
def unban(app: App, operator: Operator, product_id: ProductId) -> dict[str, Any]:
    _check_id(product_id)
    app.bans().unban([product_id], banned_now=app.view.is_banned)
    return {"unbanned": [product_id]}


@router.get("/bans")
def list_bans(
    app: App, operator: Operator, source: Annotated[str, Query(pattern="^(view|topic)$")] = "view"
) -> dict[str, Any]:
    """Current bans: from the API's live view (fast) or read from the topic to its end."""
    if source == "topic":
        bans = list(app.bans().list())
    else:
        bans = [{"product_id": pid, **ban} for pid, ban in sorted(app.view.bans().items())]
    return {"bans": bans, "count": len(bans)}


@router.get("/ops/health")
def health(app: App, operator: Operator) -> dict[str, Any]:
    own = generate_latest().decode()
    services = ops.pipeline_health(app.settings, _previous_scrapes, own)
    body: dict[str, Any] = {
        "services": services,
        "view": {"loaded": app.view.loaded.is_set(), "error": app.view.error},
    }
    if _tansu(app):  # Apache Kafka's watermarks are exact (the note was shown on a cluster too)
        body["note"] = "lag is clamped at 0: the Tansu broker's high watermark under-reports"
    return body


def _tansu(app: AppState) -> bool:
    """The embedded broker runs Tansu, whose watermarks lag behind its records."""
    from vitrina.kafka.clients import identity

    return identity(app.settings).embedded and app.settings.broker.engine == "tansu"


@router.get("/ops/topics")
def topics(app: App, operator: Operator) -> dict[str, Any]:
    return {
        "topics": ops.topic_overview(app.settings),
        **({"note": "sizes come from watermarks: approximate on Tansu"} if _tansu(app) else {}),
    }


@router.get("/ops/topics/{topic}/messages")
def topic_messages(
    app: App,
    operator: Operator,
    topic: Annotated[str, Path(max_length=249, pattern=r"^[A-Za-z0-9._-]+$")],
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    return {"topic": topic, "messages": ops.latest_messages(app.settings, topic, limit)}


@router.get("/ops/dead-letters")
def dead_letters(
    app: App, operator: Operator, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> dict[str, Any]:
    return {
        "topic": app.settings.topics.dead_letters,
        "dead_letters": ops.dead_letters(app.settings, limit),
    }

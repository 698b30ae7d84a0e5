"""/health: no token needed; 200 while the store answers, 503 when it does not."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ferry.control.api.deps import Ctx

router = APIRouter(tags=["Health"])


def store_ok(ctx: Ctx) -> bool:
    try:
        with ctx.store.read() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


@router.get("/health", response_class=PlainTextResponse, operation_id="getHealthCheck")
def health(ctx: Ctx) -> PlainTextResponse:
    if store_ok(ctx):
        return PlainTextResponse("Successful operation")
    return PlainTextResponse("The config store does not answer", status_code=503)

"""The read-only HTTP API over the event store (FastAPI; served by `pinkpipe api`).

Routes (JSON; OpenAPI at /openapi.json, docs at /docs):
- `GET /health`: 200 with the schema revision and cluster count, 503 when the database fails;
- `GET /heads`: every cluster's head;
- `GET /clusters/{cluster}/blocks/{number}`: one block with decoded events (and its SCALE bytes);
- `GET /blocks`: the `events list` filters, keyset pages (`limit` ≤ the page limit, `cursor`);
- `GET /stream`: server-sent events, one `block` event per newly stored block.

Every parameter is validated before it reaches SQL (which is parameterized anyway): bad values
get 400/404/422 with a message, an unavailable database 503, never a 500.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import Engine

from pinkpipe.eventstore.db import schema_revision
from pinkpipe.eventstore.errors import BadQuery, NotStored, StoreUnavailable
from pinkpipe.eventstore.models import MAX_SQL_INT
from pinkpipe.eventstore.reader import DEFAULT_PAGE, BlockFilter, EventReader

HEX32_PATTERN = r"^(0x)?[0-9a-fA-F]{64}$"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63})?$"
CURSOR_PATTERN = r"^[0-9]{1,19}\.[0-9]{1,19}$"

Hex32 = Annotated[str | None, Query(pattern=HEX32_PATTERN, description="32 bytes, hex")]
Number = Annotated[int | None, Query(ge=0, le=MAX_SQL_INT)]


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value.removeprefix("0x"))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def create_app(engine: Engine, page_limit: int = 1000, poll_interval_s: float = 0.5) -> FastAPI:
    """The API over `engine` (already migrated); `poll_interval_s` paces the SSE stream."""
    reader = EventReader(engine, page_limit)
    app = FastAPI(
        title="pinkpipe event store",
        description="Pink event blocks, verified on write. Read-only.",
        version="1",
    )

    @app.exception_handler(NotStored)
    async def _not_found(_: Request, e: NotStored) -> JSONResponse:
        return _error(404, str(e))

    @app.exception_handler(BadQuery)
    async def _bad_query(_: Request, e: BadQuery) -> JSONResponse:
        return _error(400, str(e))

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, e: StoreUnavailable) -> JSONResponse:
        return _error(503, str(e))

    @app.get("/health")
    def health() -> dict[str, Any]:
        """Whether the database answers; its schema revision and number of clusters."""
        return {"status": "ok", "schema": schema_revision(engine), "clusters": len(reader.heads())}

    @app.get("/heads")
    def heads() -> list[dict[str, Any]]:
        """The head (latest block) of every cluster."""
        return [h.to_json() for h in reader.heads()]

    @app.get("/clusters/{cluster}/blocks/{number}")
    def get_block(
        cluster: Annotated[str, Path(pattern=HEX32_PATTERN)],
        number: Annotated[int, Path(ge=0, le=MAX_SQL_INT)],
        scale: bool = False,
    ) -> dict[str, Any]:
        """One event block of a cluster with its decoded events."""
        block = reader.get(bytes.fromhex(cluster.removeprefix("0x")), number)
        return block.to_json(with_scale=scale)

    @app.get("/blocks")
    def list_blocks(
        cluster: Hex32 = None,
        number_from: Annotated[int | None, Query(alias="from", ge=0, le=MAX_SQL_INT)] = None,
        number_to: Annotated[int | None, Query(alias="to", ge=0, le=MAX_SQL_INT)] = None,
        chain_from: Number = None,
        chain_to: Number = None,
        contract: Hex32 = None,
        origin: Hex32 = None,
        event: Annotated[
            str | None, Query(pattern=NAME_PATTERN, description="Pallet[.Name]")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=page_limit)] = min(DEFAULT_PAGE, page_limit),
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
    ) -> dict[str, Any]:
        """Event blocks matching every filter, by cluster then number; pass `next_cursor` back
        as `cursor` for the next page (null: this was the last)."""
        pallet, _, name = (event or "").partition(".")
        flt = BlockFilter(
            cluster=_bytes(cluster),
            number_from=number_from,
            number_to=number_to,
            chain_from=chain_from,
            chain_to=chain_to,
            contract=_bytes(contract),
            origin=_bytes(origin),
            pallet=pallet or None,
            event=name or None,
        )
        page = reader.list(flt, cursor, limit)
        return {"blocks": [b.to_json() for b in page.blocks], "next_cursor": page.next_cursor}

    @app.get("/stream")
    async def stream(
        request: Request,
        replay: Annotated[int, Query(ge=0, le=page_limit, description="blocks per cluster")] = 0,
    ) -> StreamingResponse:
        """Server-sent events: `event: block` with the block's JSON for every block stored
        from now on (after replaying the last `replay` blocks of each cluster)."""
        seen = {
            h.cluster_id: max(-1, h.number - replay)
            for h in await run_in_threadpool(reader.heads)
            if h.number is not None
        }

        async def events() -> AsyncIterator[str]:
            yield ": pinkpipe event store\n\n"
            while not await request.is_disconnected():
                for block in await run_in_threadpool(reader.new_blocks, seen):
                    ident = f"0x{block.cluster_id.hex()}:{block.number}"
                    yield f"event: block\nid: {ident}\ndata: {json.dumps(block.to_json())}\n\n"
                await asyncio.sleep(poll_interval_s)

        return StreamingResponse(events(), media_type="text/event-stream")

    return app

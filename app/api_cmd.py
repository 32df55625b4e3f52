"""`pinkpipe api`: serve the event store's read-only HTTP API with uvicorn."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from pinkpipe.app.events_cmd import open_store, store_errors_to_exit, store_options
from pinkpipe.eventstore.api import create_app


@click.command("api")
@store_options
@click.option("--host", default="127.0.0.1", show_default=True, help="listen address (loopback)")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option(
    "--poll",
    type=click.FloatRange(min=0.05),
    default=0.5,
    show_default=True,
    help="seconds between checks for new blocks (SSE stream)",
)
def api_command(
    config_file: Path | None,
    db_url: str | None,
    data_dir: Path | None,
    host: str,
    port: int,
    poll: float,
) -> None:
    """Serve the event store read-only over HTTP: /blocks, /heads, /stream (SSE), /health,
    /docs. Listens on loopback unless --host says otherwise."""
    with store_errors_to_exit():
        engine, settings = open_store(config_file, db_url, data_dir)
    app = create_app(engine, settings.store_page_limit, poll)
    uvicorn.run(app, host=host, port=port, log_level="warning")

"""`ferry serve`: API, scheduler and executor in one process, on the embedded store unless
FERRY_DATABASE_URL is set. Each attempt runs in a worker process of its own (see ferry.control.execution
for the variables that tune slots, retries and heartbeats)."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Syncs run at once, each in its own process (default: CPUs)."),
    ] = None,
) -> None:
    """Start the Ferry server: REST API (Airbyte-compatible), scheduler and job executor."""
    import logging
    import os

    import uvicorn

    from ferry.cdk.secrets import install_log_masking, mask
    from ferry.control.app import create_app
    from ferry.errors import ConfigError

    if workers is not None:
        # Through the environment, so that the worker processes see the same setting.
        os.environ["FERRY_WORKER_SLOTS"] = str(workers)
    # One handler on the root logger, masked: uvicorn's and connectors' records all pass through it.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        app = create_app()
    except ConfigError as exc:  # a bad FERRY_* setting: say which, as other commands do
        typer.echo(f"error: {mask(str(exc))}", err=True)
        raise typer.Exit(2) from None
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))
    server.run()

"""`ferry serve`: the API server and its executor, on the embedded store unless FERRY_DATABASE_URL is set."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start the Ferry server: REST API (Airbyte-compatible) and job executor."""
    import logging

    import uvicorn

    from ferry.cdk.secrets import install_log_masking
    from ferry.control.app import create_app

    # One handler on the root logger, masked: uvicorn's and connectors' records all pass through it.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    app = create_app()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False))
    server.run()

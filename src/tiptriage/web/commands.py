"""`tiptriage serve`: the web application (uvicorn)."""

from __future__ import annotations

import typer

from tiptriage.cliutil import console
from tiptriage.i18n import _


def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on."),
          port: int = typer.Option(8000, help="Port to listen on.")) -> None:
    """Serve the web application on the configured store."""
    import uvicorn

    from tiptriage.db import ensure_schema, engine_for
    from tiptriage.config import get_settings
    from tiptriage.web.app import create_app

    ensure_schema(engine_for(get_settings().database_url), create=True)
    console.print(_("tiptriage at http://{host}:{port}/ (stop with Ctrl+C)", host=host, port=port))
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")

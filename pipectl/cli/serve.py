"""`pipectl serve`: the pipeline as a local web app (docs/serve.md); starlette and uvicorn
are imported inside the command, only when it runs."""

from __future__ import annotations

import typer

from pipectl.cli.app import app
from pipectl.cli.common import open_pipeline, warn


@app.command()
def serve(
    ctx: typer.Context,
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="The port to listen on."),
    host: str = typer.Option(
        None,
        "--host",
        metavar="ADDRESS",
        help="Listen on this address instead of 127.0.0.1 (no authentication: docs/serve.md).",
    ),
    open_browser: bool = typer.Option(False, "--open", help="Open the board in a browser."),
) -> None:
    """Serve the pipeline as a web app: board, deal pages, agenda, search, report.

    Drag a card to move a deal, log touchpoints, set next steps, close deals won or lost:
    each change is the CLI's own operation and makes one commit as the git identity the
    server runs as. Listens on 127.0.0.1 unless --host; answers only to the address it
    listens on. Needs the serve extra (`pip install 'pipectl[serve]'`).
    """
    from pipectl.errors import UsageError
    from pipectl.serve.run import DEFAULT_HOST, check_bind

    pipeline = open_pipeline(ctx)
    check_bind(host or DEFAULT_HOST, host is not None)  # refused before anything is imported
    from pipectl.serve.run import serve as run

    def started(url: str) -> None:
        typer.echo(f"serving {pipeline.root} at {url} (Ctrl-C stops)")
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        run(
            pipeline.root,
            host or DEFAULT_HOST,
            port,
            explicit=host is not None,
            warn=warn,
            started=started,
        )
    except ImportError as exc:
        raise UsageError(
            f"pipectl serve needs the serve extra ({exc.name} missing): "
            "pip install 'pipectl[serve]'"
        ) from None

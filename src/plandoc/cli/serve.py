"""`plandoc serve`: a live preview of a folder of plans in the browser, on this machine."""

from __future__ import annotations

import datetime as dt
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from plandoc.cli.app import main
from plandoc.cli.options import layout_options, settings_for

if TYPE_CHECKING:
    import logging


@main.command()
@click.argument("input_dir", required=False, type=click.Path(path_type=Path))
@layout_options
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="The port to listen on (0: any free port).")  # fmt: skip
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on. Another than this machine's own (127.0.0.1, ::1) "
    "lets others on the network try to reach the plans: a warning says so.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the browser.")
@click.option("--no-names", is_flag=True, help="Hide client names on the index page.")
def serve(
    input_dir: Path | None,
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
    as_of: dt.date,
    port: int,
    host: str,
    open_browser: bool,
    no_names: bool,
) -> None:
    """Preview the plans of INPUT_DIR (default: inputs/) in the browser, live.

    \b
    An index of every plan with its status flags; each plan's document in
    any layout with its problems beside it, updated as you save the file;
    downloads of each format, made on demand (never written to the output
    folder). Needs the serve extra: pip install 'plandoc[serve]'.

    \b
    Safe by default: it listens on 127.0.0.1 only, and every request needs
    the token in the address printed at start-up (then a cookie). Stop it
    with Ctrl-C.

    \b
    Examples:
      plandoc serve
      plandoc serve clinic/plans --open
      plandoc serve --port 9000 --no-names
    """
    from plandoc.errors import PlandocError, UsageError

    try:
        import uvicorn

        from plandoc.serve.app import LOOPBACK, Site, allowed_hosts, create_app, watched_paths
    except ImportError:
        raise PlandocError(
            "plandoc serve needs the serve extra: pip install 'plandoc[serve]'"
        ) from None

    def load() -> object:
        return settings_for(
            config, layouts, input=input_dir, layout_folders=layout_folders,
            old_layout_folders=old_layout_folders,
        )  # fmt: skip

    settings = load()
    if not settings.input.is_dir():
        raise PlandocError(f"{settings.input}: no such folder")
    if host not in LOOPBACK:
        click.echo(
            f"plandoc: warning: listening on {host}: others on the network can reach this "
            "server (they still need the token); every page is protected health information",
            err=True,
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    port = listener.getsockname()[1]
    site = Site(settings.input, load, names=not no_names, as_of=_as_of_given())
    site.hosts = allowed_hosts(host, port)
    site.cookie = f"plandoc-serve-{port}"  # cookies do not tell ports apart
    app = create_app(site, watch=watched_paths(site))
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}/?token={site.token}"
    click.echo(f"plandoc serve: {site.root} at\n  {url}\n(Ctrl-C stops it)", err=True)
    sys.stderr.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    _log_to_stderr()
    config_ = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning")
    uvicorn.Server(config_).run(sockets=[listener])


def _as_of_given() -> dt.date | None:
    """--as-of when given (a reproducible page), else None: each page takes today."""
    ctx = click.get_current_context()
    source = ctx.get_parameter_source("as_of")
    if source is click.core.ParameterSource.COMMANDLINE:
        return ctx.params["as_of"]
    return None


def _log_to_stderr() -> None:
    """The access log (method, route, status) and errors by kind, on stderr; uvicorn's own
    messages too, without tracebacks (a traceback may quote a plan)."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter())
    for name in ("plandoc.serve", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
    logging.getLogger("plandoc.serve").setLevel(logging.INFO)


def _formatter() -> logging.Formatter:
    """A formatter that leaves out exception text: only what the message itself says."""
    import logging

    class NoTraceback(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            record.exc_info = None
            record.exc_text = None
            return super().format(record)

    return NoTraceback("%(asctime)s %(message)s", "%H:%M:%S")

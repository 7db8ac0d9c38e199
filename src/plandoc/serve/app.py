"""The web application of `plandoc serve`: pages, documents, downloads, live reload.

Safe by default, since every page is protected health information:

- a random token, in the URL printed at start-up, is required on every
  request; the first request trades it for a cookie (HttpOnly,
  SameSite=Strict) and a page that moves on without the token in the URL;
- a request whose `Host` header is not the bound address and port is refused
  (a web page elsewhere cannot reach the server through a name of its own:
  DNS rebinding);
- only plan files under the served folder are read: a path with `..`, a
  hidden part, or one that resolves outside the folder (a symlink out) is
  not found;
- the access log names the route (`GET /plan/{path} 200`), never the path,
  the query or the token; an error is logged by its kind only;
- every page forbids scripts other than the package's own (`serve.js`) and
  loads nothing from elsewhere; documents are shown in a frame that runs no
  script at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plandoc.errors import PlandocError
from plandoc.planfile.read import PLAN_SUFFIXES
from plandoc.problems import Problem, Severity, format_field_path, shown

LOG = logging.getLogger("plandoc.serve")
STATIC = Path(__file__).parent / "static"
FORMATS = ("md", "html", "docx", "pdf")
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# A document: its own style sheet and pictures, no script, shown only in our own frame.
DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
SORTABLE = (
    "plan_id", "client", "version", "status", "layout", "review_due", "days_left", "flags",
)  # fmt: skip
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The `Host` headers a request may carry: the bound address and port (and
    `localhost` for a loopback address, which no other site can name)."""
    shown_host = f"[{host}]" if ":" in host else host
    hosts = {f"{shown_host}:{port}"}
    if host in LOOPBACK:
        hosts |= {f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"}
    return frozenset(hosts)


@dataclass
class Site:
    """What the server serves, and how: the folder, the settings, the token."""

    root: Path
    load_settings: Callable[[], Any]
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    hosts: frozenset[str] = frozenset()
    names: bool = True
    as_of: dt.date | None = None
    cookie: str = "plandoc-serve"
    generation: int = 0
    settings_error: str | None = None
    last_good: dict[tuple[str, str], bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.settings = self.load_settings()

    def today(self) -> dt.date:
        return self.as_of or dt.date.today()

    def changed(self) -> None:
        """A watched file changed: forget what was read, and tell the open pages."""
        from plandoc.layouts import layout as layout_module

        with self.lock:
            layout_module._FOUND.clear()  # layouts are read again
            try:
                self.settings = self.load_settings()
                self.settings_error = None
            except PlandocError as error:
                self.settings_error = shown(error.message, values=True)
            self.generation += 1

    # --- which files may be read ------------------------------------------------------

    def plan_path(self, relative: str) -> Path:
        """The plan file at `relative` under the folder; 404 for anything else."""
        parts = relative.split("/")
        if (
            not relative
            or "\\" in relative
            or "\x00" in relative
            or any(part in ("", ".", "..") or part.startswith(".") for part in parts)
            or not relative.lower().endswith(PLAN_SUFFIXES)
        ):
            raise HTTPException(404)
        try:
            resolved = (self.root / relative).resolve(strict=True)
        except (OSError, RuntimeError):
            raise HTTPException(404) from None
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            raise HTTPException(404)  # a symlink out of the folder, or a folder
        return resolved

    def plan_files(self) -> list[Path]:
        """Every plan file under the folder that resolves inside it."""
        from plandoc.planfile.find import find_plan_files

        try:
            found = list(find_plan_files((self.root,)))
        except PlandocError:  # no plan files (yet)
            return []
        inside = []
        for path in found:
            try:
                if path.resolve(strict=True).is_relative_to(self.root):
                    inside.append(path)
            except (OSError, RuntimeError):
                continue
        return inside

    def relative(self, path: Path | str) -> str:
        return Path(path).resolve().relative_to(self.root).as_posix()


# --- pages -------------------------------------------------------------------------------

_ENVIRONMENT = Environment(
    loader=PackageLoader("plandoc.serve", "pages"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(site: Site, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    text = _ENVIRONMENT.get_template(name).render(
        generation=site.generation, settings_error=site.settings_error, **context
    )
    return HTMLResponse(text, status_code, headers={"Content-Security-Policy": PAGE_POLICY})


def _site(request: Request) -> Site:
    return request.app.state.site


def index(request: Request) -> Response:
    """Every plan under the folder, with its status flags; sorted by `?sort=` and `?order=`."""
    from plandoc.checks.file import check_paths
    from plandoc.model.instruments import load_registry
    from plandoc.reports.status import sort_rows, status_row

    site = _site(request)
    with site.lock:
        settings = site.settings
        registry = load_registry(settings.instruments)
        checked_plans = check_paths(site.plan_files(), settings, settings.layouts[:1], site.today())
        rows = sort_rows(status_row(c, site.today(), 30, registry) for c in checked_plans)
    sort = request.query_params.get("sort", "")
    descending = request.query_params.get("order") == "desc"
    if sort in SORTABLE and (sort != "client" or site.names):

        def key(row: Any) -> tuple[bool, Any]:
            value = getattr(row, sort)
            value = " ".join(value) if isinstance(value, tuple) else value
            return (value is None or value == "", value if value is not None else 0)

        rows = sorted(rows, key=key, reverse=descending)
    plans = [{"row": row, "path": site.relative(row.file)} for row in rows]
    return _page(
        site,
        "index.html",
        plans=plans,
        names=site.names,
        sort=sort,
        descending=descending,
        folder=str(site.root),
        quote=quote,
    )


@dataclass(frozen=True)
class ShownProblem:
    """A problem as the plan page shows it: where, which field, what, and an editor link."""

    where: str
    field: str
    message: str
    severity: str
    editor: str

    @classmethod
    def of(cls, problem: Problem, site: Site) -> ShownProblem:
        path = Path(problem.file)
        try:
            name = site.relative(path)
        except ValueError:
            name = path.name
        where = f"{name}:{problem.line}" if problem.line else name
        field = shown(format_field_path(problem.field), values=True)
        label = "" if problem.severity is Severity.ERROR else "warning: "
        message = shown(problem.message, values=True)
        line = f":{problem.line}" if problem.line else ""
        editor = f"vscode://file{quote(str(path.resolve()))}{line}"
        return cls(where, field, f"{label}{message}", problem.severity.value, editor)

    @property
    def text(self) -> str:
        return (
            f"{self.where}: {self.field}: {self.message}"
            if self.field
            else (f"{self.where}: {self.message}")
        )


def _layout_names(site: Site) -> list[str]:
    from plandoc.layouts import available_layouts

    return sorted(available_layouts(site.settings.layout_folders))


def _checked(site: Site, path: Path, layout: str | None) -> Any:
    from plandoc.checks.file import check_path

    settings = site.settings
    chosen = [layout] if layout else settings.layouts[:1]
    return check_path(path, settings, chosen, site.today())


def plan_page(request: Request) -> Response:
    """One plan: its document in a layout, its problems beside it, its downloads."""
    site = _site(request)
    relative = request.path_params["path"]
    path = site.plan_path(relative)
    layout = request.query_params.get("layout") or None
    with site.lock:
        names = _layout_names(site)
        if layout is not None and layout not in names:
            raise HTTPException(404)
        try:
            checked = _checked(site, path, layout)
        except PlandocError as error:  # the layout itself cannot be used
            return _page(site, "error.html", 409, message=shown(error.message, values=True))
        chosen = checked.layout.name if checked.layout else (layout or "")
        ok = checked.plan is not None and not checked.any_failed(site.settings.strict)
        formats = [f for f in FORMATS if checked.layout and checked.layout.makes(f)]
        problems = [ShownProblem.of(p, site) for p in checked.all_problems]
        has_last_good = (relative, chosen) in site.last_good
    query = urlencode({"layout": chosen, "g": site.generation})
    return _page(
        site,
        "plan.html",
        relative=relative,
        url_path=quote(relative),
        layout=chosen,
        layouts=names,
        ok=ok,
        problems=problems,
        formats=formats,
        query=query,
        has_last_good=has_last_good,
        plan_id=_plan_id(checked),
        quote=quote,
    )


def _plan_id(checked: Any) -> str:
    from plandoc.checks.plan_checks import shown_plan_id

    if checked.plan is None:
        return "plan"
    return shown_plan_id(checked.plan.plan.id) or "plan"


def _render(site: Site, path: Path, layout: str | None, fmt: str) -> tuple[Any, bytes]:
    """The plan's document in one format, made now (never written to a file)."""
    from plandoc.api import render
    from plandoc.errors import PlanError

    checked = _checked(site, path, layout)
    try:
        documents = render(path, layout, (fmt,), settings=site.settings, as_of=site.today())
    except PlanError:
        raise HTTPException(409, "the plan has errors in this layout: see its page") from None
    return checked, documents[fmt]


def document(request: Request) -> Response:
    """The HTML document of a plan in a layout (`?last=1`: the last good one)."""
    site = _site(request)
    relative = request.path_params["path"]
    path = site.plan_path(relative)
    layout = request.query_params.get("layout") or None
    key = (relative, layout or "")
    with site.lock:
        if request.query_params.get("last") == "1":
            if key not in site.last_good:
                raise HTTPException(404)
            body = site.last_good[key]
        else:
            _, body = _render(site, path, layout, "html")
            site.last_good[key] = body
            # and as the plan's last good document in any layout, for when an edit leaves
            # the plan without a layout of its own (unreadable)
            site.last_good[(relative, "")] = body
    headers = {"Content-Security-Policy": DOCUMENT_POLICY}
    return Response(body, media_type=CONTENT_TYPES["html"], headers=headers)


def download(request: Request) -> Response:
    """One format of the current layout, rendered on demand, as an attachment."""
    site = _site(request)
    fmt = request.path_params["fmt"]
    if fmt not in FORMATS:
        raise HTTPException(404)
    relative = request.path_params["path"]
    path = site.plan_path(relative)
    layout = request.query_params.get("layout") or None
    with site.lock:
        try:
            checked, body = _render(site, path, layout, fmt)
        except PlandocError as error:  # PDF without Typst, say
            return PlainTextResponse(shown(error.message, values=True), 409)
    version = checked.plan.plan.version if checked.plan else 0
    name = f"{_plan_id(checked)}-v{version}.{checked.layout.name}.{fmt}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Security-Policy": DOCUMENT_POLICY,
    }
    return Response(body, media_type=CONTENT_TYPES[fmt], headers=headers)


async def events(request: Request) -> Response:
    """Server-sent events: the generation of the files, each time it changes."""
    site = _site(request)

    async def stream() -> Any:
        seen = None
        quiet_since = time.monotonic()
        while not await request.is_disconnected():
            if site.generation != seen:
                seen = site.generation
                quiet_since = time.monotonic()
                yield f"data: {seen}\n\n"
            elif time.monotonic() - quiet_since > 15:
                quiet_since = time.monotonic()
                yield ": still here\n\n"
            await asyncio.sleep(0.1)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


# --- the checks every request passes, and the access log ---------------------------------


class Guard:
    """Host header, token (then cookie), security headers, access log, errors by kind."""

    def __init__(self, app: ASGIApp, site: Site, routes: list[Any]) -> None:
        self.app = app
        self.site = site
        self.routes = routes

    def template(self, scope: Scope) -> str:
        """The route's path template: never the path itself, the query or the token."""
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route.path + ("/{file}" if isinstance(route, Mount) else "")
        return "(no route)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        status = 500
        template = self.template(scope)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                    (b"content-security-policy", PAGE_POLICY.encode()),
                ):
                    if name not in names:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            response = self.refused(request)
            if response is not None:
                await response(scope, receive, sending)
            elif secrets.compare_digest(request.query_params.get("token", ""), self.site.token):
                await self.welcome(request)(scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        except Exception as error:  # logged by its kind only: its text could quote a plan
            LOG.error("internal error (%s) in %s %s", type(error).__name__, scope["method"],
                      template)  # fmt: skip
            if status == 500:
                await PlainTextResponse("internal error", 500)(scope, receive, sending)
            return
        LOG.info("%s %s %d", scope["method"], template, status)

    def refused(self, request: Request) -> Response | None:
        host = request.headers.get("host", "")
        if host not in self.site.hosts:
            return PlainTextResponse("refused: this server answers only to its own address", 421)
        token = request.query_params.get("token")
        cookie = request.cookies.get(self.site.cookie, "")
        if token is not None:
            if secrets.compare_digest(token, self.site.token):
                return None
            return PlainTextResponse("refused: a wrong token", 403)
        if not secrets.compare_digest(cookie, self.site.token):
            return PlainTextResponse(
                "refused: open the address plandoc serve printed (with its token)", 403
            )
        return None

    def welcome(self, request: Request) -> Response:
        """The token traded for a cookie; the page moves on without the token in its URL."""
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = quote(request.url.path) + (f"?{urlencode(query)}" if query else "")
        page = _ENVIRONMENT.get_template("welcome.html").render(target=target)
        response = HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})
        response.set_cookie(
            self.site.cookie, self.site.token, httponly=True, samesite="strict", path="/"
        )
        return response


def create_app(site: Site, watch: list[Path] | None = None) -> ASGIApp:
    """The application; with `watch`, files under those paths are watched for live reload."""
    routes = [
        Route("/", index),
        Route("/plan/{path:path}", plan_page),
        Route("/document/{path:path}", document),
        Route("/download/{fmt}/{path:path}", download),
        Route("/events", events),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    lifespan = None
    if watch:

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> Any:
            task = asyncio.create_task(_watch(site, watch))
            try:
                yield
            finally:
                task.cancel()

    app = Starlette(routes=routes, lifespan=lifespan)  # type: ignore[arg-type]
    app.state.site = site
    return Guard(app, site, routes)


async def _watch(site: Site, paths: list[Path]) -> None:
    """Each change under the watched paths: a new generation, pages reload (within 1 s)."""
    import watchfiles

    existing = [str(p) for p in paths if p.exists()]
    async for _ in watchfiles.awatch(*existing, debounce=150, step=50, recursive=True):
        await asyncio.to_thread(site.changed)


def watched_paths(site: Site) -> list[Path]:
    """The folder, plandoc.toml, the layout folders and the instruments file's folder."""
    from plandoc.layouts.layout import layout_folders

    settings = site.settings
    paths = [site.root, Path.cwd() / "plandoc.toml"]
    if settings.config_file:
        paths.append(Path(settings.config_file).resolve())
    paths += [folder.resolve() for folder, _ in layout_folders(settings.layout_folders)]
    for extra in (settings.instruments, settings.service_codes):
        if extra:
            paths.append(Path(extra).resolve())
    return list(dict.fromkeys(paths))

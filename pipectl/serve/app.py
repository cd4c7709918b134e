"""The Starlette app: pages, the change endpoint, the version the page polls, and the guards.

Safe by default: a request whose Host is not the bound name is refused (DNS rebinding), a
POST needs a same-origin Origin and the session's CSRF token, every response carries a strict
CSP (scripts and styles only from /static, which the package ships; nothing else fetched).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipectl import schema
from pipectl.errors import PipectlError
from pipectl.serve import actions, pages, views
from pipectl.store import Pipeline

COOKIE = "pipectl_session"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
STATIC = Path(__file__).parent / "static"
Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]


class Guard:
    """Refuses, before any route runs, a Host that is not ours and a POST that is not from
    our own page (its Origin and the CSRF token bound to its session cookie)."""

    def __init__(self, app: ASGI, hosts: Iterable[str], secret: bytes):
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        host = request.headers.get("host", "").lower()
        why = None
        if host not in self.hosts:
            why = "this server answers only to its own address (Host refused)"
        elif request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin", "")
            if urlsplit(origin).netloc.lower() != host:
                why = "a change must come from this server's own page (Origin refused)"
            elif not hmac.compare_digest(
                request.headers.get("x-csrf-token", ""),
                token(self.secret, request.cookies.get(COOKIE, "")),
            ) or not request.cookies.get(COOKIE):
                why = "the page's CSRF token is missing or wrong: reload the page"
        if why is not None:
            await JSONResponse({"error": why}, 403, headers=_headers())(scope, receive, send)
            return
        await self.app(scope, receive, _with_headers(send))


def _with_headers(send: Any) -> Any:
    """Every response (the static assets' too) with the CSP and nosniff, unless it set its
    own policy (the report page's, by hash)."""

    async def sending(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {k.lower() for k, _ in headers}
            for key, value in _headers().items():
                if key.lower().encode() not in present:
                    headers.append((key.lower().encode(), value.encode()))
            message["headers"] = headers
        await send(message)

    return sending


def token(secret: bytes, session: str) -> str:
    """The CSRF token of a session: its cookie signed with the server's secret."""
    return hmac.new(secret, session.encode(), hashlib.sha256).hexdigest()


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def create_app(root: Path, hosts: Iterable[str]) -> Any:
    """The app over the pipeline at `root`, answering to the names in `hosts` (host:port)."""
    secret = secrets.token_bytes(32)

    def pipeline() -> Pipeline:  # opened per request: a hand edit of pipeline.yaml counts
        return Pipeline.open(root)

    def page(request: Request, title: str, body: Callable[[Pipeline], str], here: str) -> Response:
        session = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
        p = pipeline()
        try:
            inner = body(p)
            status = 200
        except PipectlError as exc:
            inner, status = f'<p class="error">{pages.e(str(exc))}</p>', 404
        html = pages.shell(title, inner, token(secret, session), views.pipeline_version(p), here)
        response = HTMLResponse(html, status, headers=_headers())
        if COOKIE not in request.cookies:
            response.set_cookie(COOKIE, session, httponly=True, samesite="strict")
        return response

    def board(request: Request) -> Response:
        owner = request.query_params.get("owner")
        every = request.query_params.get("all") == "1"
        return page(request, "Board", lambda p: pages.board(views.board(p, owner, every)), "/")

    def deal(request: Request) -> Response:
        ref = request.path_params["deal"]

        def body(p: Pipeline) -> str:
            cfg = p.config
            return pages.deal(
                views.deal(p, ref),
                [s.name for s in cfg.stages if s.is_open],
                cfg.touchpoint_kinds,
                cfg.touchpoint_outcomes,
                cfg.lost_reasons,
                tuple(schema.for_config(cfg).fields.values()),
            )

        return page(request, ref, body, "")

    def agenda(request: Request) -> Response:
        owner = request.query_params.get("owner")
        return page(request, "Agenda", lambda p: pages.agenda(*views.agenda(p, owner)), "/agenda")

    def search(request: Request) -> Response:
        query = request.query_params.get("q", "")
        found = (lambda p: views.search(p, query)) if query.strip() else (lambda p: [])
        return page(request, "Search", lambda p: pages.search(query, found(p)), "/search")

    def report(request: Request) -> Response:
        from pipectl.render.htmlassets import CSS, JS, csp_hash

        # the dashboard is one self-contained page: its own style and script, by hash
        csp = (
            f"default-src 'none'; style-src '{csp_hash(CSS)}'; script-src '{csp_hash(JS)}'; "
            "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        return HTMLResponse(
            views.dashboard(pipeline()), headers={**_headers(), "Content-Security-Policy": csp}
        )

    def version(request: Request) -> Response:
        return JSONResponse({"version": views.pipeline_version(pipeline())}, headers=_headers())

    async def change(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, 400)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_change, request.path_params["action"], payload)

    def _change(action: str, payload: dict[str, Any]) -> Response:
        p = pipeline()
        try:
            outcome = actions.apply(p, action, payload)
        except actions.Refused as refused:
            body = {
                "error": refused.message,
                "missing": list(refused.missing),
                "version": refused.version,
                **refused.extra,
            }
            return JSONResponse(body, refused.status, headers=_headers())
        except PipectlError as exc:
            return JSONResponse({"error": str(exc)}, 400, headers=_headers())
        fresh = pipeline()
        ref = outcome.ref
        now = None if ref is None else views.deal_version(fresh.read_bytes(fresh.resolve(ref.id)))
        return JSONResponse(
            {"ok": True, "message": outcome.message, "committed": outcome.committed,
             "version": now, "pipeline": views.pipeline_version(fresh)},
            headers=_headers(),
        )  # fmt: skip

    routes = [
        Route("/", board),
        Route("/deal/{deal}", deal),
        Route("/agenda", agenda),
        Route("/search", search),
        Route("/report", report),
        Route("/api/version", version),
        Route("/api/{action}", change, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Guard(Starlette(routes=routes), hosts, secret)

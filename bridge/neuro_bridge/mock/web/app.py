"""The web console's server: a Starlette app served by Hypercorn's trio worker.

Needs the ``web`` extra (``pip install 'neuro-bridge[web]'``).  Routes (every one
but the static files needs the per-launch ``token`` in the query):

* ``GET /?token=T`` -- the page (``static/index.html``);
* ``GET /static/...`` -- its script and style sheet, served from the package;
* ``WS /ws?token=T`` -- the live feed: the server sends ``{"type": "state", ...}``
  (see :meth:`ConsoleHub.state <neuro_bridge.mock.web.hub.ConsoleHub.state>`) then
  ``{"type": "events", "events": [...], "state": {...}}`` batches, at most one per
  :data:`BATCH_INTERVAL`; the page sends requests (``{"id": N, "op": ...}``, see
  :meth:`ConsoleHub.execute <neuro_bridge.mock.web.hub.ConsoleHub.execute>`) and
  gets ``{"type": "reply", "id": N, ...}``;
* ``GET /session/N.jsonl?token=T`` -- the session's recording so far (the download
  button).

:func:`serve_console` listens on loopback (a warning is logged for any other host).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import logging
import secrets
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from starlette.requests import Request

    from neuro_bridge.mock.web.hub import ConsoleHub

__all__ = ["BATCH_INTERVAL", "build_app", "console_url", "new_token", "serve_console"]

logger = logging.getLogger(__name__)

#: Seconds between two batches of events sent to a page (at most).
BATCH_INTERVAL: Final = 0.05
#: Events in one batch, at most.
BATCH_SIZE: Final = 2000

_STATIC = resources.files("neuro_bridge.mock.web") / "static"


def new_token() -> str:
    """Return a fresh per-launch token."""
    return secrets.token_urlsafe(16)


def console_url(host: str, port: int, token: str) -> str:
    """Return the page's URL: ``http://HOST:PORT/?token=TOKEN``."""
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/?token={token}"


def _token_ok(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def build_app(hub: ConsoleHub, token: str) -> Starlette:
    """Return the console's ASGI app for *hub*, guarded by *token*."""
    page = (_STATIC / "index.html").read_text(encoding="utf-8")

    async def index(request: Request) -> Response:
        if not _token_ok(request.query_params.get("token"), token):
            return PlainTextResponse("wrong or missing token", status_code=403)
        return HTMLResponse(page)

    async def recording(request: Request) -> Response:
        if not _token_ok(request.query_params.get("token"), token):
            return PlainTextResponse("wrong or missing token", status_code=403)
        number = request.path_params["number"]
        text = hub.recording(number)
        if text is None:
            return PlainTextResponse("no such session", status_code=404)
        name = f"session-{number}.jsonl"
        return Response(
            text,
            media_type="application/x-ndjson",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def feed(websocket: WebSocket) -> None:
        if not _token_ok(websocket.query_params.get("token"), token):
            await websocket.close(code=1008)
            return
        await websocket.accept()
        sender = _Sender(websocket)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_send_feed, hub, sender)
            try:
                while True:
                    text = await websocket.receive_text()
                    nursery.start_soon(_answer, hub, sender, text)
            except WebSocketDisconnect:
                pass
            finally:
                nursery.cancel_scope.cancel()

    return Starlette(
        routes=[
            Route("/", index),
            Route("/session/{number:int}.jsonl", recording),
            WebSocketRoute("/ws", feed),
            Mount("/static", StaticFiles(directory=str(_STATIC)), name="static"),
        ]
    )


class _Sender:
    """One page's websocket, sent to by one task at a time."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.lock = trio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        text = json.dumps(message, ensure_ascii=False)
        async with self.lock:
            await self.websocket.send_text(text)


async def _send_feed(hub: ConsoleHub, sender: _Sender) -> None:
    seq = 0  # a new page gets the window of events kept so far first
    try:
        await sender.send({"type": "state", "state": hub.state()})
        while True:
            if seq >= hub.seq:
                await hub.wait_for_event(seq)
                await trio.sleep(BATCH_INTERVAL)  # gather a batch
            events, lost = hub.events_after(seq, BATCH_SIZE)
            if events:
                seq = events[-1]["seq"]
            message: dict[str, Any] = {
                "type": "events",
                "events": events,
                "lost": lost,
                "state": hub.state(),
            }
            await sender.send(message)
    except (WebSocketDisconnect, RuntimeError, OSError, trio.BrokenResourceError) as exc:
        logger.debug("a console page left: %r", exc)


async def _answer(hub: ConsoleHub, sender: _Sender, text: str) -> None:
    try:
        request = json.loads(text)
        if not isinstance(request, dict):
            raise TypeError("a request is a JSON object")
    except (ValueError, TypeError) as exc:
        reply: dict[str, Any] = {"ok": False, "text": f"bad request: {exc}"}
        request = {}
    else:
        reply = await hub.execute(request)
    reply.update(type="reply", id=request.get("id"))
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError, trio.BrokenResourceError):
        await sender.send(reply)


def _warn_if_exposed(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        logger.warning(
            "the web console listens on %s: any machine that can reach this one can"
            " open it with the token (listen on 127.0.0.1 unless that is what you want)",
            host,
        )


async def serve_console(
    hub: ConsoleHub,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the console for *hub* until cancelled (use with ``nursery.start``).

    ``task_status.started`` gets the page's URL (with the token) once listening.

    Raises:
        OSError: If the address cannot be bound.
    """
    token = new_token() if token is None else token
    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger(__name__ + ".hypercorn")
    config.graceful_timeout = 0.5
    _warn_if_exposed(host)
    app = build_app(hub, token)

    async def started(*, task_status: trio.TaskStatus[list[str]]) -> None:
        await serve(app, config, task_status=task_status)  # type: ignore[arg-type]

    async with trio.open_nursery() as nursery:
        binds = await nursery.start(started)
        bound_port = int(binds[0].rsplit(":", 1)[1])
        url = console_url(host, bound_port, token)
        logger.info("web console at %s", url)
        task_status.started(url)

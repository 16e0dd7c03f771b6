"""``neuro-bridge proxy``: a validating Neuro proxy any Neuro game can sit behind.

A game connects to the proxy exactly as it would to Neuro
(``ws://127.0.0.1:PORT/?token=TOKEN``); the proxy connects upstream to the real
Neuro (or the stand-in) through a :class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent`.
Without a line of the game changed, the game gets:

* **Validated actions.**  Neuro's ``action`` data is checked against the schema the
  game registered (:func:`~neuro_bridge.schema.compile_validator`, through the
  component); unknown names and invalid data are answered upstream with
  ``success: false`` and a clear message and never reach the game.
* **Every action answered.**  A result the game does not send within
  ``result_timeout`` seconds (:data:`DEFAULT_RESULT_TIMEOUT`) is answered with
  ``success: false``; a game that disconnects has its open actions answered too.
* **Reconnects.**  After an upstream reconnect the component sends ``startup``, the
  registrations and the force in flight again.  A game that reconnects (a new
  connection replaces the old one) starts a new session: its ``startup`` and
  registrations replace the old ones upstream.
* **One force in flight.**  A second ``actions/force`` while one is in flight is
  reported and not forwarded.
* **The stand-in's rules, live.**  Every game frame goes through a
  :class:`~neuro_bridge.conformance.ConformanceChecker`; each broken rule is logged
  (WARNING, ``game #N broke RULE: message (hint)``) and kept in
  :attr:`NeuroProxy.findings`.  With ``strict=True`` a frame that breaks a rule
  (advice aside) is refused: logged and not forwarded.

The proxy listens on loopback only and serves one game at a time.  A per-launch
token in the URL's query (``?token=``) must match: a wrong or missing token is
refused at the websocket upgrade (HTTP 403).

Started as a game's sidecar (the Godot addon does this), the proxy is told the
game's process id (``game_pid``) and exits soon after that process ends, however
it ended; ``--ready-file`` hands the launcher the URL without reading a pipe.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import logging
import os
import re
import secrets
import sys
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Final

import attrs
import trio
import trio_websocket
from libcomponent.component import Event

from neuro_bridge import argtypes
from neuro_bridge.component import DEFAULT_ACTION_TIMEOUT, ActionResult
from neuro_bridge.conformance import ConformanceChecker
from neuro_bridge.protocol import Action, GameCommandKind, LocalProtocolError, NeuroCommands
from neuro_bridge.session_events import WatchedGame
from neuro_bridge.trio_ws import OutboxFullError, TrioNeuroAPIComponent, check_url

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from neuro_bridge.conformance import Finding, ForceRecord
    from neuro_bridge.protocol import ActionRequested

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_RESULT_TIMEOUT",
    "GAME_GONE_GRACE",
    "GAME_PID_POLL_INTERVAL",
    "LISTENING_LINE",
    "WEB_CONSOLE_LINE",
    "NeuroProxy",
    "configure_parser",
    "listening_url",
    "process_is_running",
    "run",
    "write_ready_file",
]

logger = logging.getLogger(__name__)

#: Where the proxy listens unless told otherwise (loopback only, always).
DEFAULT_HOST: Final = "127.0.0.1"
#: Seconds the proxy waits for the game's ``action/result`` before answering
#: Neuro itself with ``success: false`` (Neuro gives up after about 20 s).
DEFAULT_RESULT_TIMEOUT: Final = DEFAULT_ACTION_TIMEOUT
#: Seconds a proxy run with ``exit_with_game`` waits for its game to come back
#: after the game's connection closed, before it exits.
GAME_GONE_GRACE: Final = 2.0
#: Seconds between two checks that the game's process (``game_pid``) still runs.
GAME_PID_POLL_INTERVAL: Final = 0.25
#: The line ``neuro-bridge proxy`` prints on stdout (flushed) once it listens; a
#: launcher reads the URL from it.  ``{url}`` is :func:`listening_url`'s result.
LISTENING_LINE: Final = "neuro-bridge proxy listening on {url}"
#: The line ``neuro-bridge proxy --web`` prints after :data:`LISTENING_LINE`.
WEB_CONSOLE_LINE: Final = "neuro-bridge proxy web console at {url}"

#: Sent to Neuro for an action that arrives while no game is connected.
NO_GAME_MESSAGE: Final = "The game is not connected right now; try again in a moment."
#: Sent to Neuro for an action whose game disconnected before answering.
GAME_LEFT_MESSAGE: Final = "The game disconnected before answering this action."

_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

# The action being handled, for the forwarding handler (trio copies the context
# into the handler's task when the component starts it).
_CURRENT_ACTION: contextvars.ContextVar[ActionRequested] = contextvars.ContextVar(
    "neuro_bridge_proxy_action"
)


def listening_url(host: str, port: int, token: str) -> str:
    """Return the URL a game connects to: ``ws://HOST:PORT/?token=TOKEN``."""
    if ":" in host:
        host = f"[{host}]"
    return f"ws://{host}:{port}/?token={token}"


def process_is_running(pid: int) -> bool:
    """Whether a process with id *pid* exists (a zombie counts as ended).

    On Windows this asks ``OpenProcess``/``WaitForSingleObject`` through ctypes
    (``os.kill`` there would terminate the process); elsewhere it sends signal 0.
    """
    if sys.platform == "win32":
        return _windows_process_is_running(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    # A process that ended but was not reaped by its parent still answers signal 0.
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False  # no /proc (macOS): signal 0 is all there is


def _windows_process_is_running(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    synchronize, wait_timeout = 0x00100000, 0x00000102
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    handle = kernel32.OpenProcess(synchronize, False, pid)
    if not handle:
        return False
    try:
        return bool(kernel32.WaitForSingleObject(handle, 0) == wait_timeout)
    finally:
        kernel32.CloseHandle(handle)


def write_ready_file(path: Path, url: str) -> None:
    """Write *url* and a newline to *path*, readable by the owner only.

    The file appears whole or not at all (written beside it, then renamed), so a
    launcher that polls for it never reads half a URL.
    """
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(url + "\n")
    os.replace(partial, path)


def _peer(websocket: trio_websocket.WebSocketConnection) -> str:
    try:
        remote = websocket.remote
    except OSError:  # the game left during the upgrade
        return "gone"
    return str(remote) if isinstance(remote, str) else f"{remote.address}:{remote.port}"


def _check_host(host: object) -> str:
    if host == "localhost":
        return host
    try:
        if isinstance(host, str) and ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"the proxy listens on loopback only (127.0.0.1 or ::1), not {host!r}")


@attrs.define
class _Slot:
    """An action forwarded to the game, waiting for its result."""

    done: trio.Event = attrs.field(factory=trio.Event)
    result: ActionResult = attrs.field(factory=lambda: ActionResult(False, GAME_LEFT_MESSAGE))

    def settle(self, result: ActionResult) -> None:
        if not self.done.is_set():
            self.result = result
            self.done.set()


@attrs.define(eq=False)
class _Game:
    """One game connection: its websocket, its rules and its open actions."""

    number: int
    websocket: trio_websocket.WebSocketConnection
    checker: ConformanceChecker
    watch: WatchedGame
    slots: dict[str, _Slot] = attrs.field(factory=dict)
    close_reason: str | None = None


class _Upstream(TrioNeuroAPIComponent):
    """The component facing Neuro; hands shutdown requests on to the game."""

    def __init__(self, proxy: NeuroProxy, game_title: str, **options: Any) -> None:
        super().__init__("neuro_bridge_proxy", game_title, **options)
        self._proxy = proxy

    async def handle_action(self, action: ActionRequested) -> None:
        token = _CURRENT_ACTION.set(action)
        try:
            await super().handle_action(action)
        finally:
            _CURRENT_ACTION.reset(token)

    async def handle_graceful_shutdown_request(self, wants_shutdown: bool) -> None:
        await super().handle_graceful_shutdown_request(wants_shutdown)
        await self._proxy.send_to_game(NeuroCommands.shutdown_graceful(wants_shutdown))

    async def handle_immediate_shutdown(self) -> None:
        await super().handle_immediate_shutdown()
        await self._proxy.send_to_game(NeuroCommands.shutdown_immediate())


class NeuroProxy:
    """A validating proxy between one game and Neuro.

    Run :meth:`serve` (``await nursery.start(proxy.serve)``); the game connects to
    :attr:`url`.  See the module docstring for what it guarantees.

    Args:
        upstream: Neuro's websocket URL (``ws://`` or ``wss://``).
        host: A loopback address to listen on.
        port: The port; 0 picks a free one (read :attr:`port` after starting).
        token: The token games must present; a random one when omitted.
        strict: Refuse (log and drop) game frames that break a rule.
        result_timeout: Seconds to wait for the game's result before answering
            Neuro with ``success: false``.
        exit_with_game: Stop once the game's connection closed and no game came
            back within *game_gone_grace* seconds.
        game_gone_grace: See *exit_with_game*.
        game_pid: Stop once the process with this id ended (checked every
            :data:`GAME_PID_POLL_INTERVAL` seconds): a sidecar ends with its game
            even when the game crashed before it connected.
        upstream_options: Keyword arguments for the upstream
            :class:`~neuro_bridge.trio_ws.TrioNeuroAPIComponent` (e.g.
            ``reconnect_initial_delay``).

    Raises:
        ValueError: For a bad upstream URL, a host that is not loopback, a port
            outside 0-65535, a token that is not 1-256 of ``[A-Za-z0-9_-]``, a
            timeout that is not positive or a *game_pid* that is not a positive int.
    """

    def __init__(
        self,
        upstream: str,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        token: str | None = None,
        strict: bool = False,
        result_timeout: float = DEFAULT_RESULT_TIMEOUT,
        exit_with_game: bool = False,
        game_gone_grace: float = GAME_GONE_GRACE,
        game_pid: int | None = None,
        upstream_options: dict[str, Any] | None = None,
    ) -> None:
        self.upstream = check_url(upstream)
        self.host = _check_host(host)
        if not (isinstance(port, int) and 0 <= port <= 65535):
            raise ValueError(f"port must be an int from 0 to 65535, not {port!r}")
        if token is None:
            token = secrets.token_urlsafe(16)
        if not (isinstance(token, str) and _TOKEN_RE.fullmatch(token)):
            raise ValueError("token must be 1 to 256 characters from [A-Za-z0-9_-]")
        for name, value in (
            ("result_timeout", result_timeout),
            ("game_gone_grace", game_gone_grace),
        ):
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name} must be a positive number, not {value!r}")
        if game_pid is not None and not (
            isinstance(game_pid, int) and not isinstance(game_pid, bool) and game_pid > 0
        ):
            raise ValueError(f"game_pid must be a positive int, not {game_pid!r}")
        self.token = token
        self.game_pid = game_pid
        self.strict = strict
        self.result_timeout = float(result_timeout)
        self.exit_with_game = exit_with_game
        self.game_gone_grace = float(game_gone_grace)
        self._upstream_options = dict(upstream_options or {})
        self._requested_port = port
        self._port: int | None = None
        #: Every rule the games broke, in order (all connections).
        self.findings: list[Finding] = []
        self._game: _Game | None = None
        self._games = 0
        self._upstream: _Upstream | None = None
        self._nursery: trio.Nursery | None = None
        self._stop = trio.Event()
        self._game_changed = trio.Event()
        #: Called with each game connection's :class:`~neuro_bridge.session_events.WatchedGame`
        #: before its first frame (``--record`` and ``--web`` add theirs here).
        self.on_game: list[Callable[[WatchedGame], None]] = []

    # ------------------------------------------------------------ state

    @property
    def port(self) -> int:
        """The port it listens on.

        Raises:
            RuntimeError: Before :meth:`serve` has started listening.
        """
        if self._port is None:
            raise RuntimeError("the proxy is not listening yet")
        return self._port

    @property
    def url(self) -> str:
        """The URL a game connects to, token included."""
        return listening_url(self.host, self.port, self.token)

    @property
    def upstream_component(self) -> TrioNeuroAPIComponent | None:
        """The component facing Neuro (``None`` until the first game sent a frame)."""
        return self._upstream

    @property
    def game_connected(self) -> bool:
        """Whether a game is connected."""
        return self._game is not None

    # ------------------------------------------------------------ serving

    async def serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen and proxy until :meth:`stop` (or, with ``exit_with_game``, the game left).

        Raises:
            OSError: If the address cannot be bound (e.g. the port is taken).
        """
        listeners = await trio.open_tcp_listeners(self._requested_port, host=self.host)
        try:
            self._port = listeners[0].socket.getsockname()[1]
            server = trio_websocket.WebSocketServer(self._handle, listeners)
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await nursery.start(server.run)
                logger.info("proxy listening on %s, upstream %s", self.url, self.upstream)
                task_status.started()
                if self.exit_with_game:
                    nursery.start_soon(self._watch_game)
                if self.game_pid is not None:
                    nursery.start_soon(self._watch_game_process, self.game_pid)
                await self._stop.wait()
                game = self._game
                if game is not None:
                    with trio.move_on_after(1.0):
                        await game.websocket.aclose(1001, "the proxy is stopping")
                if self._upstream is not None:
                    await self._upstream.stop()
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            with trio.CancelScope(shield=True):
                for listener in listeners:
                    await listener.aclose()

    def stop(self) -> None:
        """Stop proxying; :meth:`serve` then returns.  Safe at any time, more than once."""
        self._stop.set()

    async def _watch_game(self) -> None:
        """Stop once a game came and went and none came back within the grace."""
        while True:
            while self._game is None or self._games == 0:
                if self._games:
                    with trio.move_on_after(self.game_gone_grace) as waited:
                        await self._game_changed.wait()
                    if waited.cancelled_caught:
                        logger.info("the game went away; the proxy exits with it")
                        self.stop()
                        return
                else:
                    await self._game_changed.wait()
            await self._game_changed.wait()

    async def _watch_game_process(self, pid: int) -> None:
        """Stop once the game's process ended."""
        while process_is_running(pid):  # noqa: ASYNC110 -- a process end raises no event here
            await trio.sleep(GAME_PID_POLL_INTERVAL)
        logger.info("the game's process (pid %d) ended; the proxy exits with it", pid)
        self.stop()

    def _changed(self) -> None:
        self._game_changed.set()
        self._game_changed = trio.Event()

    # ------------------------------------------------------------ game side

    async def _handle(self, request: trio_websocket.WebSocketRequest) -> None:
        try:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
            given = query.get("token", [""])[0]
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                logger.warning("refused a game: %s token", "wrong" if given else "missing")
                await request.reject(403, body=b"a valid ?token= is required\n")
                return
            websocket = await request.accept()
        except (trio_websocket.ConnectionClosed, trio.BrokenResourceError, OSError) as exc:
            logger.info("a game left during the websocket upgrade: %r", exc)
            return
        self._games += 1
        checker = ConformanceChecker(self.result_timeout, self._games)
        game = _Game(
            self._games, websocket, checker, WatchedGame(self._games, _peer(websocket), checker)
        )
        for hook in list(self.on_game):
            try:
                hook(game.watch)
            except Exception:
                logger.exception("a new-game hook failed for game #%d", game.number)
        old, self._game = self._game, game
        if old is not None:
            logger.info("game #%d replaces game #%d", game.number, old.number)
            self._drop_game(old)
            with trio.move_on_after(1.0):
                await old.websocket.aclose(1000, "replaced by a new connection")
        logger.info("game #%d connected", game.number)
        self._changed()
        try:
            await self._read_game(game)
        finally:
            self._drop_game(game)
            game.watch.ended(game.close_reason or "closed", "game")
            if self._game is game:
                self._game = None
                logger.info("game #%d disconnected", game.number)
                self._changed()

    @staticmethod
    def _drop_game(game: _Game) -> None:
        for slot in game.slots.values():
            slot.settle(ActionResult(False, GAME_LEFT_MESSAGE))

    async def _read_game(self, game: _Game) -> None:
        while True:
            try:
                frame = await game.websocket.get_message()
            except trio_websocket.ConnectionClosed as exc:
                reason = exc.reason
                if reason is not None:
                    game.close_reason = f"code {reason.code}"
                return
            received = game.checker.receive(frame, trio.current_time())
            game.watch.game_frame(received.message)
            broken = self._report(game, received.findings)
            if broken and self.strict:
                logger.warning(
                    "game #%d: refused %s (--strict)", game.number, received.message.command
                )
                continue
            try:
                await self._forward(game, received)
            except (LocalProtocolError, OutboxFullError, ValueError, TypeError) as exc:
                logger.warning(
                    "game #%d: %s not forwarded: %s", game.number, received.message.command, exc
                )

    def _report(self, game: _Game, findings: Iterable[Finding]) -> bool:
        """Log and keep *findings*; return whether one is a rule (not advice)."""
        broken = False
        findings = list(findings)
        game.watch.findings_found(findings)
        for finding in findings:
            self.findings.append(finding)
            logger.warning(
                "game #%d broke %s: %s (%s)",
                game.number,
                finding.rule,
                finding.message,
                finding.hint,
            )
            broken = broken or not finding.advice
        return broken

    async def _forward(self, game: _Game, received: Any) -> None:
        """Send what one game frame asks for upstream (see ``ConformanceChecker.receive``)."""
        command = received.message.command
        data = received.message.data
        if command == GameCommandKind.RESULT:
            result = received.result
            if result is None:
                return
            slot = game.slots.get(result.id)
            if slot is None:
                logger.warning(
                    "game #%d: result for id %r dropped: no action awaits it (timed out,"
                    " or never sent)",
                    game.number,
                    result.id,
                )
                return
            # Worded for Neuro (a failure without a message too) where every
            # answer passes: send_action_result, upstream.
            slot.settle(ActionResult(result.success, result.message))
            return
        upstream = self._upstream
        if upstream is None or command == GameCommandKind.STARTUP:
            title = game.checker.game
            if title is None:
                return
            upstream = await self._new_session(game, title)
            if command == GameCommandKind.STARTUP:
                return
        if command == GameCommandKind.REGISTER:
            pairs = []
            for name in received.registered:
                definition = game.checker.registered[name]
                schema = definition.schema
                pairs.append(
                    (
                        Action(name, definition.description, schema if schema else None),
                        self._forward_action,
                    )
                )
            if pairs:
                await upstream.register_neuro_actions(pairs)
        elif command == GameCommandKind.UNREGISTER:
            held = [name for name in received.unregistered if name in upstream.registered_actions]
            if held:
                await upstream.unregister_actions(held)
        elif command == GameCommandKind.FORCE:
            await self._force(game, upstream, received.force)
        elif command == GameCommandKind.CONTEXT:
            if isinstance(data, dict):
                await upstream.send_context(data.get("message"), data.get("silent", True))  # type: ignore[arg-type]
        elif command == GameCommandKind.SHUTDOWN_READY:
            await upstream.send_shutdown_ready()

    async def _force(self, game: _Game, upstream: _Upstream, force: ForceRecord | None) -> None:
        if force is None:
            return
        pending = upstream.pending_force
        if pending is not None:
            logger.warning(
                "game #%d: force for %s not forwarded: the force for %s is still in flight",
                game.number,
                list(force.action_names),
                list(pending.action_names),
            )
            return
        names = [name for name in force.action_names if name in upstream.registered_actions]
        if names:
            await upstream.send_force_action(
                force.state, force.query, names, force.ephemeral_context, force.priority
            )

    async def _new_session(self, game: _Game, title: str) -> _Upstream:
        """Start (or restart) the upstream session for *game*'s ``startup``."""
        upstream = self._upstream
        if upstream is not None and upstream.game_title != title:
            logger.info("the game's title changed to %r: reconnecting upstream", title)
            await upstream.stop()
            upstream = None
        if upstream is None:
            if self._nursery is None:
                raise RuntimeError("the proxy is not serving")
            upstream = _Upstream(
                self, title, action_timeout=self.result_timeout, **self._upstream_options
            )
            self._upstream = upstream
            self._nursery.start_soon(upstream.handle_connect, Event("connect", self.upstream))
        else:
            # A new session from the game: what the old one registered goes.
            upstream.clear_pending_force()
            names = list(upstream.get_registered())
            if names:
                await upstream.unregister_actions(names)
            await upstream.send_startup_command()
        return upstream

    # ------------------------------------------------------------ Neuro side

    async def _forward_action(self, data: dict[str, Any]) -> ActionResult:
        """Pass a (validated) action on to the game; return its result (every action's handler)."""
        action = _CURRENT_ACTION.get()
        game = self._game
        if game is None:
            return ActionResult(False, NO_GAME_MESSAGE)
        frame = NeuroCommands.action(action.id, action.name, action.data)
        slot = _Slot()
        game.slots[action.id] = slot
        game.checker.neuro_sent(frame, trio.current_time())
        game.watch.neuro_frame(frame)
        try:
            try:
                await game.websocket.send_message(frame)
            except trio_websocket.ConnectionClosed:
                return ActionResult(False, GAME_LEFT_MESSAGE)
            await slot.done.wait()
            return slot.result
        finally:
            game.slots.pop(action.id, None)
            if not slot.done.is_set():  # cancelled: the result timed out
                self._report(game, game.checker.expire(trio.current_time()))

    async def send_to_game(self, frame: str) -> None:
        """Send *frame* (a Neuro command) to the game, if one is connected."""
        game = self._game
        if game is None:
            logger.info("no game connected for %.60s", frame)
            return
        game.checker.neuro_sent(frame, trio.current_time())
        game.watch.neuro_frame(frame)
        try:
            await game.websocket.send_message(frame)
        except trio_websocket.ConnectionClosed:
            logger.info("game #%d left before %.60s", game.number, frame)


# ---------------------------------------------------------------- command line


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add ``neuro-bridge proxy``'s options to *parser*."""
    parser.add_argument(
        "--port",
        type=argtypes.port,
        required=True,
        help="port to listen on (0: a free one, printed)",
    )
    parser.add_argument(
        "--upstream", required=True, metavar="URL", help="Neuro's websocket URL (ws:// or wss://)"
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address to listen on")
    parser.add_argument(
        "--token", help="the token games must present (default: a random one, printed)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="refuse game frames that break a rule"
    )
    parser.add_argument(
        "--result-timeout",
        type=float,
        default=DEFAULT_RESULT_TIMEOUT,
        metavar="SECONDS",
        help=f"answer an action the game leaves unanswered (default {DEFAULT_RESULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--exit-with-game",
        action="store_true",
        help="exit when the game's connection closes (as the Godot addon's sidecar)",
    )
    parser.add_argument(
        "--game-pid",
        type=argtypes.positive_int,
        metavar="PID",
        help="exit when the process with this id ends (the game that started the proxy)",
    )
    parser.add_argument(
        "--web",
        action="store_true",
        help="also serve the web console showing the game (needs neuro-bridge[web]); its URL"
        " is printed after the listening line",
    )
    parser.add_argument(
        "--web-port", type=argtypes.port, default=0, help="the console's port (default: any free)"
    )
    parser.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="save each game connection as a JSONL file in DIR (see neuro-bridge mock --replay)",
    )
    parser.add_argument(
        "--ready-file",
        type=argtypes.writable_file,
        metavar="PATH",
        help="once listening, also write the URL to this file (owner-only, written whole)",
    )


async def _web_console(proxy: NeuroProxy, port: int, *, task_status: trio.TaskStatus[str]) -> None:
    """Serve the web console watching *proxy*'s games (the web extra, imported here only)."""
    from neuro_bridge.mock.web.app import serve_console
    from neuro_bridge.mock.web.hub import ConsoleHub

    async with trio.open_nursery() as nursery:
        hub = ConsoleHub(nursery, source="proxy")
        proxy.on_game.append(hub.add_session)
        await serve_console(hub, host=proxy.host, port=port, task_status=task_status)


def run(args: argparse.Namespace) -> int:
    """Run ``neuro-bridge proxy``; return the exit status (2 for a usage error)."""
    try:
        proxy = NeuroProxy(
            args.upstream,
            host=args.host,
            port=args.port,
            token=args.token,
            strict=args.strict,
            result_timeout=args.result_timeout,
            exit_with_game=args.exit_with_game,
            game_pid=args.game_pid,
        )
    except ValueError as exc:
        print(f"neuro-bridge proxy: {exc}", file=sys.stderr)
        return 2

    web = getattr(args, "web", False)
    if web:
        from neuro_bridge.mock.cli import web_extra_missing

        missing = web_extra_missing()
        if missing is not None:
            print(f"neuro-bridge proxy: {missing}", file=sys.stderr)
            return 2
    record = getattr(args, "record", None)
    if record is not None:
        from neuro_bridge.mock.recording import Recorder

        proxy.on_game.append(Recorder(record, source="proxy").record_session)
    failed: list[OSError] = []

    async def main() -> None:
        async with trio.open_nursery() as nursery:

            async def serve(*, task_status: trio.TaskStatus[None]) -> None:
                await proxy.serve(task_status=task_status)
                nursery.cancel_scope.cancel()  # the web console ends with the proxy

            try:
                await nursery.start(serve)
            except OSError as exc:
                failed.append(exc)
                return
            if args.ready_file is not None:
                write_ready_file(args.ready_file, proxy.url)
            print(LISTENING_LINE.format(url=proxy.url), flush=True)
            if web:
                try:
                    url = await nursery.start(_web_console, proxy, args.web_port)
                except OSError as exc:
                    failed.append(exc)
                    proxy.stop()
                    return
                print(WEB_CONSOLE_LINE.format(url=url), flush=True)

    try:
        trio.run(main)
    except KeyboardInterrupt:
        return 130
    if failed:
        reason = failed[0].strerror or failed[0]
        print(
            f"neuro-bridge proxy: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
        )
        return 2
    return 0

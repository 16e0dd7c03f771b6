"""Hand injection: typed commands that make the stand-in Neuro send anything.

``neuro-bridge mock`` reads one command per line from standard input (the
console) and prints the reply; :class:`Console` does the work and is usable on
its own (tests feed it lines).  Commands go to every connected game, or to game
*N* with an ``@N`` prefix (``@2 force``).

==========================  =========================================================
command                     what Neuro sends
==========================  =========================================================
``{...}``                   this JSON text, verbatim, as one frame
``raw TEXT``                *TEXT* verbatim (it need not be JSON)
``action NAME [DATA]``      ``action`` for *NAME*; *DATA* is sent verbatim as the data
                            string (omit it for data generated from the schema)
``force [NAME]``            answers the force in flight now (optionally with *NAME*)
``reregister``              ``actions/reregister_all``
``ack [neuro|evil]``        the ``startup`` acknowledgement
``graceful [true|false]``   ``shutdown/graceful`` (default ``true``)
``immediate``               ``shutdown/immediate``
``speech [final|partial]``  ``speech_finished`` (default ``final``)
``chaos KIND``              one chaos probe (see :class:`~neuro_bridge.mock.chaos.ChaosKind`)
``close``                   closes the connection
==========================  =========================================================

And, without a target: ``games`` (list connections), ``findings`` (summary so far),
``help``, ``quit`` (stop the server).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final

from neuro_bridge.mock.chaos import ChaosKind
from neuro_bridge.mock.session import GENERATE, GameDisconnectedError, describe
from neuro_bridge.protocol import NeuroCommands

if TYPE_CHECKING:
    import trio

    from neuro_bridge.mock.server import MockNeuro
    from neuro_bridge.mock.session import MockSession

__all__ = ["HELP", "Console"]

#: The console's help text.
HELP: Final = (
    """\
commands (prefix with @N to address game N only; default: every connected game):
  {"command": ...}          send this JSON frame verbatim
  raw TEXT                  send TEXT verbatim
  action NAME [DATA]        send an action (DATA verbatim; omitted: generated)
  force [NAME]              answer the force in flight now
  reregister                actions/reregister_all
  ack [neuro|evil]          startup acknowledgement
  graceful [true|false]     shutdown/graceful
  immediate                 shutdown/immediate
  speech [final|partial]    speech_finished
  chaos KIND                one chaos probe: """
    + ", ".join(k.value for k in ChaosKind)
    + """
  close                     close the connection
  games | findings | help | quit"""
)


class Console:
    """Executes console commands against a running :class:`~neuro_bridge.mock.MockNeuro`.

    Args:
        mock: The server whose games the commands address.
        nursery: Where commands that wait (chaos probes) run in the background.
        cause: The cause recordings give the frames it sends.
    """

    def __init__(self, mock: MockNeuro, nursery: trio.Nursery, *, cause: str = "console") -> None:
        self.mock = mock
        self.nursery = nursery
        self.cause = cause

    async def execute(self, line: str) -> str:
        """Run one command line; return the reply to show (never raises for bad input)."""
        line = line.strip()
        if not line:
            return ""
        targets: list[MockSession] | None = None
        if line.startswith("@"):
            head, _, line = line.partition(" ")
            try:
                number = int(head[1:])
            except ValueError:
                return f"error: bad target {head!r}; use @N"
            targets = [s for s in self.mock.sessions if s.number == number]
            if not targets:
                return f"error: no game #{number}"
            line = line.strip()
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if targets is None:
            if word == "help":
                return HELP
            if word == "games":
                return describe(self.mock.sessions)
            if word == "findings":
                return self.mock.summary()
            if word == "quit":
                self.mock.stop()
                return "stopping"
            targets = [s for s in self.mock.sessions if s.connected]
            if not targets:
                return "error: no game is connected"
        replies = []
        for session in targets:
            try:
                reply = await self._run(session, word, rest, line)
            except GameDisconnectedError:
                reply = "error: not connected"
            except (ValueError, RuntimeError) as exc:
                reply = f"error: {exc}"
            replies.append(f"#{session.number} {reply}")
        return "\n".join(replies)

    async def _run(self, session: MockSession, word: str, rest: str, line: str) -> str:
        if line.startswith(("{", "[")):
            json.loads(line)  # a ValueError names the problem
            await session.send(line, cause=self.cause)
            return "sent"
        if word == "raw":
            await session.send(rest, cause=self.cause)
            return "sent"
        if word == "action":
            name, _, data = rest.partition(" ")
            if not name:
                raise ValueError("usage: action NAME [DATA]")
            action_id = await session.send_action(name, data.strip() or GENERATE, cause=self.cause)
            return f"sent action #{action_id}"
        if word == "force":
            action_id = await session.force(rest or None, cause=self.cause)
            return f"sent action #{action_id}"
        frame = self._simple_frame(session, word, rest)
        if frame is not None:
            await session.send(frame, cause=self.cause)
            return "sent"
        if word == "chaos":
            kind = ChaosKind(rest)
            self.nursery.start_soon(self._probe, session, kind)
            return f"probing {kind.value}"
        if word == "close":
            await session.close()
            return "closed"
        raise ValueError(f"unknown command {word!r} (try help)")

    @staticmethod
    def _simple_frame(session: MockSession, word: str, rest: str) -> str | None:
        if word == "reregister":
            return NeuroCommands.reregister_all()
        if word == "ack":
            character = rest or "neuro"
            display = "Evil Neuro" if character == "evil" else "Neuro-sama"
            return NeuroCommands.startup_acknowledgement(
                f"mock-session-{session.number}", character, display
            )
        if word == "graceful":
            if rest not in ("", "true", "false"):
                raise ValueError("usage: graceful [true|false]")
            return NeuroCommands.shutdown_graceful(rest != "false")
        if word == "immediate":
            return NeuroCommands.shutdown_immediate()
        if word == "speech":
            if rest not in ("", "final", "partial"):
                raise ValueError("usage: speech [final|partial]")
            return NeuroCommands.speech_finished(rest != "partial")
        return None

    async def _probe(self, session: MockSession, kind: ChaosKind) -> None:
        try:
            outcome = await session.probe(kind)
        except GameDisconnectedError:
            return
        if outcome is None and self.mock.transcript is not None:
            self.mock.transcript.note(session.number, f"chaos {kind.value} does not apply now")

"""The stand-in Neuro: a test server that plays games, attacks them, checks them.

It listens like Neuro's websocket server, plays each ``actions/force`` with data
generated from the action's schema, can send unforced actions and hostile input
("chaos"), and checks every message a game sends against the Neuro API's rules.

Layout (each module states its contract):

* :mod:`neuro_bridge.conformance` (outside this package: the proxy uses it too) --
  the sans-IO :class:`ConformanceChecker`, the rule ids and the records it keeps
  (:class:`Finding`, registered actions, forces, results, game messages).
* :mod:`.datagen` -- valid action data from a schema (:mod:`.regexgen` makes
  strings for its patterns).
* :mod:`.hostile` -- action data that breaks a schema on purpose.
* :mod:`.chaos` -- hostile probes and how to judge the answers.
* :mod:`.session` -- one connection: the player and the driving API.
* :mod:`.server` -- :class:`MockNeuro`.
* :mod:`.config` -- :class:`MockConfig`.
* :mod:`.launch` -- :func:`play_game`: a game's command run against the stand-in.
* :mod:`.transcript` -- the readable transcript, summary and JSON report.
* :mod:`.console` -- typed commands for the ``neuro-bridge mock`` console.
* :mod:`neuro_bridge.session_events` (outside this package too) -- what happens
  on a connection, as events for observers; the proxy's game as one.
* :mod:`.recording` -- sessions saved as JSONL (``--record``).
* :mod:`.replay` -- a recorded session played again, and the differences.
* :mod:`.pytest_plugin` -- the ``mock_neuro`` fixture.
* :mod:`.cli` -- ``neuro-bridge mock``.
"""

from __future__ import annotations

from neuro_bridge.conformance import RULES as RULES
from neuro_bridge.conformance import ConformanceChecker as ConformanceChecker
from neuro_bridge.conformance import Finding as Finding
from neuro_bridge.conformance import ForceRecord as ForceRecord
from neuro_bridge.conformance import GameMessage as GameMessage
from neuro_bridge.conformance import RegisteredAction as RegisteredAction
from neuro_bridge.conformance import ResultRecord as ResultRecord
from neuro_bridge.mock.chaos import ChaosKind as ChaosKind
from neuro_bridge.mock.chaos import ChaosOutcome as ChaosOutcome
from neuro_bridge.mock.config import ALL_CHAOS as ALL_CHAOS
from neuro_bridge.mock.config import MockConfig as MockConfig
from neuro_bridge.mock.launch import GamePlayed as GamePlayed
from neuro_bridge.mock.launch import play_game as play_game
from neuro_bridge.mock.server import MockNeuro as MockNeuro
from neuro_bridge.mock.session import GENERATE as GENERATE
from neuro_bridge.mock.session import GameDisconnectedError as GameDisconnectedError
from neuro_bridge.mock.session import MockSession as MockSession
from neuro_bridge.mock.transcript import Transcript as Transcript

__all__ = [
    "ALL_CHAOS",
    "GENERATE",
    "RULES",
    "ChaosKind",
    "ChaosOutcome",
    "ConformanceChecker",
    "Finding",
    "ForceRecord",
    "GameDisconnectedError",
    "GameMessage",
    "GamePlayed",
    "MockConfig",
    "MockNeuro",
    "MockSession",
    "RegisteredAction",
    "ResultRecord",
    "Transcript",
    "play_game",
]

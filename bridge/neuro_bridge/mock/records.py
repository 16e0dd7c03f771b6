"""Value types the stand-in Neuro keeps about one game: what it sent and what it owes.

These are plain immutable records shared by the rules (:mod:`.rules`), the player
(:mod:`.session`) and the transcript (:mod:`.transcript`).  They hold what the game
actually sent, even when it broke the rules (a schema that is not an object, a name
with capitals), so tests can assert on it.
"""

from __future__ import annotations

from typing import Any

import attrs

from neuro_bridge.protocol import ActionDefinition

__all__ = ["Finding", "ForceRecord", "GameMessage", "RegisteredAction", "ResultRecord"]


@attrs.frozen
class Finding:
    """One violation of the Neuro API's rules by a game.

    Attributes:
        rule: The rule's id, one of the constants in ``neuro_bridge.mock.rules``
            (``"force-in-flight"``).
        message: What happened, with the values involved.
        hint: How to fix it.
        connection: The number of the connection (1 for the first game that
            connected), or 0 when not known.
        game: The game's title as it announced it, when known.
        advice: ``True`` when the rule is advice (a schema keyword Neuro does not
            support well): reported, but ``--strict`` and
            :meth:`~neuro_bridge.mock.MockNeuro.assert_conforms` pass anyway.
    """

    rule: str
    message: str
    hint: str
    connection: int = 0
    game: str | None = None
    advice: bool = False

    def to_json_object(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict (as written by ``--report``)."""
        return {
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
            "connection": self.connection,
            "game": self.game,
            "advice": self.advice,
        }


#: An action as the game registered it (``schema`` is ``None`` when absent): the
#: game-frame parser's :class:`~neuro_bridge.protocol.ActionDefinition`.
RegisteredAction = ActionDefinition


@attrs.frozen(kw_only=True)
class ForceRecord:
    """An ``actions/force`` the game sent.

    Attributes:
        query: What Neuro is asked to do.
        action_names: The actions she may choose from, in the game's order.
        state: The state text, or ``None``.
        ephemeral_context: Whether Neuro should forget state and query afterwards.
        priority: The priority as sent (``"low"`` when omitted).
        number: 1 for the connection's first force, 2 for the next, ...
    """

    query: str
    action_names: tuple[str, ...]
    state: str | None = None
    ephemeral_context: bool = False
    priority: str = "low"
    number: int = 0


@attrs.frozen(kw_only=True)
class ResultRecord:
    """An ``action/result`` the game sent.

    Attributes:
        id: The action id it answers.
        success: Whether the game accepted the action.
        message: The game's message, or ``None``.
        time: ``trio.current_time()`` when it arrived.
    """

    id: str
    success: bool
    message: str | None = None
    time: float = 0.0


@attrs.frozen(kw_only=True)
class GameMessage:
    """One frame from the game, decoded as far as it could be.

    Attributes:
        command: The ``command`` field, or ``None`` when the frame had none.
        data: The ``data`` field (``None`` when absent).
        frame: The frame's text (binary frames decoded as UTF-8, with replacement).
        binary: Whether it came as a binary frame.
        time: ``trio.current_time()`` when it arrived.
    """

    command: str | None
    data: Any
    frame: str
    binary: bool = False
    time: float = 0.0

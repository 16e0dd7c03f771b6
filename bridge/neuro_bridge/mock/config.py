"""MockConfig: how the stand-in Neuro behaves, and its defaults.

A module of its own so that the server (:mod:`neuro_bridge.mock.server`) and each
connection's session (:mod:`neuro_bridge.mock.session`) both read it without
importing each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import attrs

from neuro_bridge.conformance import RESULT_TIMEOUT
from neuro_bridge.mock.chaos import ChaosKind

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ALL_CHAOS", "DEFAULT_HOST", "DEFAULT_PORT", "MockConfig"]

#: Where the stand-in listens by default: loopback only.
DEFAULT_HOST: Final = "127.0.0.1"
#: The port every Neuro test server uses.
DEFAULT_PORT: Final = 8000
#: Every chaos kind (what ``--chaos`` turns on).
ALL_CHAOS: Final = frozenset(ChaosKind)


def _to_chaos(value: Iterable[ChaosKind | str]) -> frozenset[ChaosKind]:
    return frozenset(ChaosKind(kind) for kind in value)


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (isinstance(value, (int, float)) and value >= 0):
        raise ValueError(f"{attribute.name} must be a number >= 0, not {value!r}")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (isinstance(value, (int, float)) and value > 0):
        raise ValueError(f"{attribute.name} must be a number > 0, not {value!r}")


def _probability(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (isinstance(value, (int, float)) and 0 <= value <= 1):
        raise ValueError(f"{attribute.name} must be between 0 and 1, not {value!r}")


def _character(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value not in (None, "neuro", "evil"):
        raise ValueError(f"character must be 'neuro', 'evil' or None, not {value!r}")


@attrs.frozen(kw_only=True)
class MockConfig:
    """How the stand-in Neuro behaves.  Every field has a default.

    Attributes:
        host: Address to listen on (loopback by default; ``"0.0.0.0"`` only if asked).
        port: Port to listen on; 0 picks a free one (see
            :attr:`MockNeuro.port <neuro_bridge.mock.server.MockNeuro.port>`).
        force_delay: Seconds between a force (or a failed attempt) and the action.
        max_retries: Retries of a force after ``success: false`` before giving up.
        result_timeout: Seconds Neuro waits for an ``action/result`` (20 in reality).
        auto_play: Play forces automatically (off: use
            :meth:`MockSession.force <neuro_bridge.mock.MockSession.force>`).
        unforced_rate: Unforced actions per second on average (0: none).
        chaos: The :class:`~neuro_bridge.mock.chaos.ChaosKind` probes to send
            (kinds or their values; :data:`ALL_CHAOS` for all).
        chaos_interval: Seconds between chaos probes.
        chaos_grace: Seconds a probe that expects no result waits before judging
            (the game must still be connected).
        character: Send a startup acknowledgement as ``"neuro"`` or ``"evil"``
            after each ``startup`` (``None``: never, like the test servers).
        reregister_on_connect: Send ``actions/reregister_all`` as each game connects,
            as Neuro's test server Randy does (off by default: the real Neuro sends
            it only when she lost the game's actions, and a game that restores its
            state on connect answers it by registering every action a second time).
        extra_key_probability: Chance that generated data gets an unknown key
            (where the schema allows one, as Neuro's test server does).
        omit_optional_probability: Chance that an optional property is left out.
        seed: Seed for all random choices (``None``: unpredictable).
        close_timeout: Seconds allowed for closing a connection.
        max_message_size: Largest frame accepted from a game, in bytes.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    force_delay: float = attrs.field(default=0.5, validator=_non_negative)
    max_retries: int = attrs.field(default=3, validator=_non_negative)
    result_timeout: float = attrs.field(default=RESULT_TIMEOUT, validator=_positive)
    auto_play: bool = True
    unforced_rate: float = attrs.field(default=0.0, validator=_non_negative)
    chaos: frozenset[ChaosKind] = attrs.field(default=frozenset(), converter=_to_chaos)
    chaos_interval: float = attrs.field(default=2.0, validator=_non_negative)
    chaos_grace: float = attrs.field(default=0.5, validator=_non_negative)
    character: str | None = attrs.field(default=None, validator=_character)
    reregister_on_connect: bool = False
    extra_key_probability: float = attrs.field(default=0.0, validator=_probability)
    omit_optional_probability: float = attrs.field(default=0.25, validator=_probability)
    seed: int | None = None
    close_timeout: float = attrs.field(default=1.0, validator=_positive)
    max_message_size: int = attrs.field(default=16 * 2**20, validator=_positive)

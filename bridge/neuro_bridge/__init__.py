"""neuro-bridge: let games be played by Neuro-sama through her websocket game API.

The package is layered, ground floor first:

* :mod:`neuro_bridge.protocol` and :mod:`neuro_bridge.schema` -- the sans-IO core:
  message builders and parsers, action-schema rules.  No I/O.
* :mod:`neuro_bridge.api` -- :class:`~neuro_bridge.api.AbstractNeuroAPI`, the game
  side of the protocol over two abstract coroutines.
* :mod:`neuro_bridge.component` -- the same as a libcomponent ``Component`` with
  actions bound to handlers.
* :mod:`neuro_bridge.trio_ws` -- ``TrioNeuroAPI`` and ``TrioNeuroAPIComponent``
  over trio-websocket, with reconnects, keepalive and ``stop()``.

Engine modules live in :mod:`neuro_bridge.engines` and import their engine only
when used: ``import neuro_bridge`` needs no pygame, Ren'Py or Godot.
"""

from __future__ import annotations

from neuro_bridge._version import __version__ as __version__

__all__ = ["__version__"]

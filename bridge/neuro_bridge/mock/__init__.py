"""The stand-in Neuro: a test server that plays games the way Neuro would.

It also checks that a game follows the protocol's rules and can send hostile data
(see :mod:`neuro_bridge.mock.datagen`).
"""

from __future__ import annotations

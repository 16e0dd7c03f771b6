"""Engine integrations: each module hosts the runtime inside one engine's main loop.

* :mod:`neuro_bridge.engines.pygame` -- pygame-ce: :class:`~neuro_bridge.engines.pygame.PygameNeuro`
  for the game, :class:`~neuro_bridge.engines.pygame.PygameHost` for the guest runner.

Each module imports its engine when it is imported itself; importing this package
imports no engine.
"""

from __future__ import annotations

"""Where the engine plugins (Ren'Py's ``.rpy`` files, Godot's addon) are.

A wheel carries them inside the package, as ``neuro_bridge/plugins/<engine>/``
(``pyproject.toml`` maps the repository's ``plugins/`` folder there); a source
checkout or an editable install has them in ``plugins/<engine>/`` at the
repository root.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

__all__ = ["ENGINES", "PluginNotFoundError", "plugin_dir"]

#: The engines that have a plugin folder.
ENGINES: Final = ("renpy", "godot")


class PluginNotFoundError(LookupError):
    """The plugin folder of an engine is in neither the package nor the source tree."""


def plugin_dir(engine: str) -> Path:
    """Return the folder holding ``engine``'s plugin files.

    Args:
        engine: one of :data:`ENGINES`.

    Returns:
        ``neuro_bridge/plugins/<engine>`` of an installed wheel, else
        ``plugins/<engine>`` of the source tree this package runs from.

    Raises:
        ValueError: ``engine`` is not one of :data:`ENGINES`.
        PluginNotFoundError: neither folder exists.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    package = Path(str(resources.files("neuro_bridge")))
    candidates = (package / "plugins" / engine, package.parent.parent / "plugins" / engine)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise PluginNotFoundError(
        f"the {engine} plugin is in neither {candidates[0]} nor {candidates[1]}"
    )

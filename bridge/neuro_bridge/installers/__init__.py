"""The installers: what puts neuro-bridge into a game made with an engine.

Not part of the runtime a game loads (the Ren'Py bundle leaves this package out):

* :mod:`.renpy_bundle` -- ``neuro-bridge renpy``: builds the folder a Ren'Py game
  carries (the ``.rpy`` glue, the runtime and its pure-Python libraries) and
  installs it into a game, or removes it.
* :mod:`.godot_addon` -- ``neuro-bridge godot install``: copies the Godot 4 addon
  into a project and enables it.
* :mod:`._plugins` -- where the engine plugins are (in the wheel, or the source
  tree).
"""

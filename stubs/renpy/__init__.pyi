# Local stubs for the parts of Ren'Py that neuro_bridge.engines.renpy uses.
# No Ren'Py stubs are published; these cover 8.0-8.3 as far as we call them.
from renpy import audio as audio
from renpy import config as config
from renpy import display as display
from renpy import exports as exports
from renpy import game as game
from renpy import store as store
from renpy import ui as ui

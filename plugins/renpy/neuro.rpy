# neuro-bridge: lets Neuro-sama play this game through her websocket game API.
#
# Copy this folder into your game's game/ directory (or run
# `neuro-bridge renpy install GAME_DIR`).  Change a setting with `define` in your
# own script, for example:
#
#     define neuro.url = "ws://localhost:8000"
#     define neuro.advance = "player"
#
# Script API (see the Ren'Py guide in the neuro-bridge documentation):
# neuro.send_context, neuro.register_action, neuro.unregister_action,
# neuro.force, neuro.ask and neuro.connected.

init -500 python in neuro:

    # False turns the plugin off: no connection, Ren'Py behaves as without it.
    enabled = True

    # Neuro's websocket URL.  None: $NEURO_SDK_WS_URL, or ws://localhost:8000.
    url = None

    # The game's name as Neuro sees it.  None: config.name.
    game = None

    # Offer every menu to Neuro and force her to pick.
    menus = True

    # The name of the action that picks a menu choice.
    menu_action = "choose"

    # Send each line of dialogue to Neuro as context ...
    dialogue = True

    # ... silently (False lets her react aloud to each line).
    dialogue_silent = True

    # How many recent lines of dialogue go with a menu as its state.
    state_lines = 8

    # Let Neuro type the text renpy.input asks for.
    inputs = True

    # The name of the action that types text.
    input_action = "enter_text"

    # Who advances dialogue while Neuro is connected: "auto" (after a reading
    # delay), "neuro" (through an action she performs) or "player".
    advance = "auto"

    # The reading delay for "auto": seconds per line, plus seconds per character.
    advance_delay = 2.0
    advance_per_character = 0.04

    # The name of the action that advances dialogue in "neuro" mode.
    advance_action = "advance"

    # Offer the buttons of screens the game waits on (`call screen`, and the
    # main menu) to Neuro; her pick clicks the button.
    screens = True

    # The name of the action that clicks a button.
    screen_action = "click"

    # How urgent forces are: "low", "medium", "high" or "critical".
    priority = "low"

    from neuro_bridge.engines.renpy import ask
    from neuro_bridge.engines.renpy import connected
    from neuro_bridge.engines.renpy import force
    from neuro_bridge.engines.renpy import register_action
    from neuro_bridge.engines.renpy import send_context
    from neuro_bridge.engines.renpy import unregister_action


init 500 python hide:
    import neuro_bridge.engines.renpy

    neuro_bridge.engines.renpy.install(store.neuro)

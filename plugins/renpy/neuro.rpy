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

    # With dialogue_silent = False, wait up to this many seconds for Neuro's
    # speech_finished before auto-advancing past a line she reads aloud
    # (0: do not wait).
    wait_for_speech = 0.0

    # Auto-advance waits for a line's voice to finish, up to this many seconds
    # (0: do not wait for voices).
    wait_for_voice = 30.0

    # Offer the buttons of screens the game waits on (`call screen`, and the
    # main menu) to Neuro; her pick clicks the button.
    screens = True

    # The name of the action that clicks a button.
    screen_action = "click"

    # What Neuro may click on the main menu: "story" (only what starts or
    # continues the story: Start, FileLoad, QuickLoad), "all" (every button the
    # deny-list allows) or "player" (nothing).
    main_menu = "story"

    # Buttons Neuro never gets, on any screen: class names of their actions,
    # and "preferences" for every action that sets a preference.  Extend it:
    #     define neuro.deny = neuro.DENY + ("Jump",)
    DENY = (
        "Quit", "OpenURL", "Language", "preferences", "SetMixer", "SetMute",
        "ToggleMute", "FileDelete", "FileSave", "FileAction", "QuickSave",
        "ShowMenu", "MainMenu", "Help", "Rollback", "RollbackToIdentifier",
        "RollForward",
    )
    deny = DENY

    # How urgent forces are: "low", "medium", "high" or "critical".
    priority = "low"

    # How many lines of dialogue to keep while Neuro is away (or the game
    # skips); she gets them as one context when she is back.
    offline_lines = 20

    # The runtime is imported here, guarded: when it cannot load (no lib/
    # folder, a library that does not import on this platform, Python 2), the
    # game runs as without the plugin, the functions below do nothing
    # (connected() is False, ask() returns its fallback), and log.txt says why.
    # Written for Python 2 too, so that Ren'Py 7 can run it.
    _load_error = None

    try:
        from neuro_bridge.engines.renpy import ask
        from neuro_bridge.engines.renpy import connected
        from neuro_bridge.engines.renpy import force
        from neuro_bridge.engines.renpy import register_action
        from neuro_bridge.engines.renpy import send_context
        from neuro_bridge.engines.renpy import unregister_action
    except Exception:
        import traceback as _traceback

        _load_error = _traceback.format_exc()

        def ask(query, choices, timeout=30.0, fallback=None, name="answer", state=None):
            return fallback

        def connected():
            return False

        def force(query, names, state=None, ephemeral=False):
            return None

        def register_action(name, description, handler, schema=None, one_shot=False):
            return None

        def send_context(message, silent=True):
            return None

        def unregister_action(*names):
            return None


init 500 python hide:
    def _neuro_log(text):
        try:
            renpy.display.log.write("%s", text)
        except Exception:
            print(text)

    if neuro._load_error is not None:
        _neuro_log(
            "neuro-bridge: the runtime could not be loaded, so the Neuro plugin is off "
            "and the game runs without it:\n" + neuro._load_error
        )
    else:
        import neuro_bridge.engines.renpy

        try:
            neuro_bridge.engines.renpy.install(store.neuro)
        except (TypeError, ValueError):
            if config.developer:
                raise  # a bad setting: show it to the game's developer
            import traceback

            _neuro_log("neuro-bridge: the plugin could not start:\n" + traceback.format_exc())
        except Exception:
            import traceback

            _neuro_log("neuro-bridge: the plugin could not start:\n" + traceback.format_exc())

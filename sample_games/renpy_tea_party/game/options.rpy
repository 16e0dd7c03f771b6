## The Tea Party: a short visual novel that Neuro can play through neuro-bridge.

define config.name = "The Tea Party"
define config.version = "1.0"
define config.save_directory = "neuro-bridge-tea-party"
define config.window_title = config.name
define config.screen_width = 1280
define config.screen_height = 720
define config.history_length = 50

## The story has no main menu of its own: it starts at once.
label main_menu:
    return

# Test hooks (copied into test copies of games only): the test drives the game
# through a file.  It writes one command into game/../neuro_test_command.txt;
# a periodic callback (inside an interaction, like a person's input) runs it and
# deletes the file, then appends what it did to neuro_test_done.txt.
#
#   click CAPTION   move the mouse onto the button CAPTION and click it
#   rollback [N]    roll back (N steps), as the Back button does
#   reload          reload the script, as Shift+R does
#   save SLOT       save into SLOT
#   load SLOT       load SLOT
#   quit            quit, as the window's close button does without asking
#   skip            start skipping (fast), as the Skip button does

init 999 python hide:
    import os

    command_file = os.path.join(config.basedir, "neuro_test_command.txt")
    done_file = os.path.join(config.basedir, "neuro_test_done.txt")

    def done(text):
        with open(done_file, "a") as log:
            log.write(text + "\n")

    def click(caption):
        # Ren'Py reads the pointer's position itself; its own test mouse
        # (what `renpy GAME test` uses) moves it and clicks, in virtual pixels.
        import renpy.test.testmouse as mouse

        for focus in renpy.display.focus.focus_list:
            widget = focus.widget
            if focus.x is None or getattr(widget, "clicked", None) is None:
                continue
            if widget._tts_all().strip() != caption:
                continue
            mouse.click_mouse(1, int(focus.x + focus.w / 2), int(focus.y + focus.h / 2))
            return True
        return False

    def run_command():
        if not os.path.exists(command_file):
            return
        with open(command_file) as source:
            command = source.read().strip()
        os.unlink(command_file)
        verb, _, argument = command.partition(" ")
        if verb == "click":
            done("click " + argument if click(argument) else "no button " + argument)
        elif verb == "rollback":
            done(command)
            renpy.rollback(force=True, checkpoints=int(argument or 1))
        elif verb == "reload":
            done("reload")
            renpy.reload_script()
        elif verb == "save":
            renpy.save(argument)
            done("save " + argument)
        elif verb == "load":
            done("load " + argument)
            renpy.load(argument)
        elif verb == "skip":
            done("skip")
            renpy.game.preferences.skip_unseen = True
            renpy.config.skipping = "fast"
            renpy.restart_interaction()
        elif verb == "quit":
            done("quit")
            renpy.quit()
        else:
            done("unknown " + command)

    config.periodic_callbacks.append(run_command)

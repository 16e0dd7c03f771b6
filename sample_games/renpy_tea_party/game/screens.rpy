## Just enough screens for dialogue, menus and text input, in plain styles.
## Ren'Py's own defaults serve the rest (the game menu, saving, loading).

style sample_text is default:
    size 30
    color "#f4ecd8"
    outlines [(2, "#2b1d14", 0, 0)]

style sample_frame is default:
    background Solid("#3b2a20d0")
    xfill True
    yalign 1.0
    ysize 220
    padding (60, 30)

screen say(who, what):
    frame:
        style "sample_frame"
        vbox:
            spacing 12
            if who is not None:
                text who id "who" style "sample_text" color "#ffd37a"
            text what id "what" style "sample_text"

screen choice(items):
    vbox:
        xalign 0.5
        yalign 0.4
        spacing 16
        for item in items:
            textbutton item.caption:
                action item.action
                xminimum 640
                background Solid("#5a3d2be0")
                hover_background Solid("#8a5d3be0")
                padding (24, 12)
                text_style "sample_text"
                text_xalign 0.5

screen input(prompt):
    frame:
        style "sample_frame"
        vbox:
            spacing 12
            text prompt style "sample_text"
            input id "input" style "sample_text" color "#ffd37a"

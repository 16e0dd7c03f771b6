from renpy.audio import music as music

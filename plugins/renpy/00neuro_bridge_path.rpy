# neuro-bridge: make the libraries that ship in this folder importable.
#
# `neuro-bridge renpy bundle` puts the runtime and its pure-Python dependencies in
# lib/ beside this file (and cffi for Windows in lib-windows/).  They go at the
# front of sys.path, at `python early` time, before any init code imports them.
# (game/python-packages would not do: Ren'Py's importer hides the *.dist-info
# folders there, and trio-websocket reads trio's version from them at import.)
#
# The folder is found by this file's name wherever it sits inside game/, so it may
# be renamed or moved.  It must stay plain files: modules inside an .rpa archive
# cannot be put on sys.path.  `hide` keeps every name here out of the store.
python early hide:
    import os
    import sys

    here = None
    for directory, name in renpy.loader.listdirfiles(False):
        if directory is not None and os.path.basename(name) in (
            "00neuro_bridge_path.rpy",
            "00neuro_bridge_path.rpyc",
        ):
            here = os.path.dirname(os.path.join(directory, name))
            break

    if sys.version_info < (3, 9):
        print("neuro-bridge needs Ren'Py 8 (Python 3.9 or newer); it stays off.")
    elif here is None or not os.path.isdir(os.path.join(here, "lib")):
        print("neuro-bridge: no lib/ folder beside 00neuro_bridge_path.rpy; it stays off.")
    else:
        folders = [os.path.join(here, "lib")]
        if sys.platform == "win32":
            folders.append(os.path.join(here, "lib-windows"))
        for folder in reversed(folders):
            if folder not in sys.path:
                sys.path.insert(0, folder)

"""Sphinx configuration for the neuro-bridge documentation."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bridge"))
sys.path.insert(0, str(ROOT))

from neuro_bridge import __version__  # noqa: E402

project = "neuro-bridge"
author = "The neuro-bridge developers"
copyright = "2026, The neuro-bridge developers"  # noqa: A001
release = __version__
version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_mock_imports = ["pygame"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_attr_annotations = True

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"neuro-bridge {__version__}"

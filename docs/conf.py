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
autodoc_mock_imports = ["pygame", "renpy"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_attr_annotations = True

exclude_patterns = ["_build"]
html_theme = "alabaster"
html_title = f"neuro-bridge {__version__}"


def _renpy_lexer() -> type:
    """Return a small Pygments lexer for Ren'Py script (``.. code-block:: renpy``)."""
    from pygments.lexer import RegexLexer, bygroups, using
    from pygments.lexers.python import PythonLexer
    from pygments.token import Comment, Keyword, Name, Number, Operator, String, Text

    class RenpyLexer(RegexLexer):
        name = "Ren'Py"
        aliases = ["renpy"]  # noqa: RUF012 - Pygments' class attributes
        filenames = ["*.rpy"]  # noqa: RUF012

        tokens = {  # noqa: RUF012
            "root": [
                (r"#.*$", Comment.Single),
                (r"^(\s*)(\$)(.*)$", bygroups(Text, Operator, using(PythonLexer))),
                (
                    r"\b(init|python|early|hide|in|label|menu|jump|call|return|define|default"
                    r"|if|elif|else|while|pass|show|scene|hide|with|screen|image|transform)\b",
                    Keyword,
                ),
                (r'"(\\.|[^"\\])*"', String.Double),
                (r"'(\\.|[^'\\])*'", String.Single),
                (r"\d+(\.\d+)?", Number),
                (r"[A-Za-z_]\w*", Name),
                (r"\s+", Text),
                (r".", Text),
            ]
        }

    return RenpyLexer


def setup(app: object) -> None:
    """Teach Sphinx to highlight Ren'Py script."""
    app.add_lexer("renpy", _renpy_lexer())  # type: ignore[attr-defined]

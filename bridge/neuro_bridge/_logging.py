"""Logging helpers: text from the network made safe for one log line.

Anything a server or a client supplies (a display name, an error text, a close
reason) may hold newlines or other control characters; logged as is, it could
forge log lines.  :func:`one_line` escapes it.
"""

from __future__ import annotations

__all__ = ["one_line"]


def one_line(text: str, limit: int = 200) -> str:
    """Return *text* with control characters escaped, cut to about *limit* characters."""
    if text.isprintable():
        escaped = text
    else:
        escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return escaped if len(escaped) <= limit else escaped[:limit] + "..."

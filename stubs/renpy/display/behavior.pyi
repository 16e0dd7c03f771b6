from typing import Any

class Button:
    action: Any
    clicked: Any
    def _tts_all(self) -> str: ...

def is_sensitive(clicked: Any) -> bool: ...

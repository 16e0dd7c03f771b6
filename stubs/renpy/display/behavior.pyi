from typing import Any

class Button:
    action: Any
    clicked: Any
    def _tts_all(self) -> str: ...

def is_sensitive(clicked: Any) -> bool: ...

class SayBehavior:
    dismiss: list[str]

class Input:
    length: Any
    allow: Any
    exclude: Any
    editable: bool
    value: Any
    changed: Any
    def update_text(self, new_content: str, editable: bool, check_size: bool = ...) -> None: ...

class Timer:
    delay: float
    repeat: bool

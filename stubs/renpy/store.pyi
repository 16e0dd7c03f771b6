from typing import Any

menu: Any

def __getattr__(name: str) -> Any: ...

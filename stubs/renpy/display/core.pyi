from typing import Any, Protocol

class _Event(Protocol):
    def post(self, event: object) -> object: ...
    def Event(self, type: int, *args: Any, **kwargs: Any) -> object: ...

class _Pygame(Protocol):
    @property
    def event(self) -> _Event: ...

PERIODIC: int
pygame: _Pygame

class EndInteraction(Exception):
    value: object
    def __init__(self, value: object) -> None: ...

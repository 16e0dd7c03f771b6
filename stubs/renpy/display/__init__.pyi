from renpy.display import behavior as behavior
from renpy.display import core as core

class _Log:
    def write(self, s: str, *args: object) -> None: ...

log: _Log

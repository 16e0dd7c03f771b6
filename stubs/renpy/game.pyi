from typing import Any

class Context:
    current: Any
    scene_lists: Any

class JumpException(Exception): ...
class CallException(Exception): ...

contexts: list[Context]

def context(index: int = ...) -> Context: ...

from typing import Any, Callable

developer: bool | str
name: str
window_title: str | None
history_length: int | None
disable_input: bool
start_callbacks: list[Callable[[], object]]
after_load_callbacks: list[Callable[[], object]]
periodic_callbacks: list[Callable[[], object]]
start_interact_callbacks: list[Callable[[], object]]
history_callbacks: list[Callable[[Any], object]]
quit_callbacks: list[Callable[[], object]]
skipping: str | None

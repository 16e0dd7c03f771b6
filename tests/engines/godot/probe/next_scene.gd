extends Node
## The scene the probe's "scene" scenario changes to: it opens its own window, owned by
## itself, and quits once Neuro picked its action.


func _ready() -> void:
	print("[probe] next scene")
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add_action("next_pick", "Pick.", {}, _on_pick)
	window.force_after(0.0, "Next")
	NeuroBridge.open_window(window, self)


func _on_pick(_data: Dictionary) -> NeuroBridgeResult:
	_finish.call_deferred()
	return NeuroBridgeResult.success()


func _finish() -> void:
	print("[probe] done")
	get_tree().quit(0)

extends Node
## A game written from docs/godot.rst alone, using only the addon's public API, for the
## tests in tests/engines/test_godot_probe.py.  One scenario per run
## ([code]godot --path PROJECT -- --scenario NAME[/code]), against the stand-in Neuro;
## it prints [code][probe] ...[/code] lines and quits when the scenario is over.


## A node of the level: its handler is a method of a node that goes away with it.
class LevelNode:
	extends Node

	func on_say(_data: Dictionary) -> NeuroBridgeResult:
		return NeuroBridgeResult.success()


var scenario: String = ""
var connections: int = 0
var waves: int = 0


func _ready() -> void:
	process_mode = Node.PROCESS_MODE_ALWAYS
	var arguments: PackedStringArray = OS.get_cmdline_user_args()
	scenario = arguments[arguments.find("--scenario") + 1]
	NeuroBridge.action_answered.connect(_on_answered)
	NeuroBridge.connected.connect(_on_connected)
	NeuroBridge.disconnected.connect(_on_disconnected)
	say("scenario %s" % scenario)


func say(text: String) -> void:
	print("[probe] %s" % text)


func finish() -> void:
	say("done")
	get_tree().quit(0)


func accept(_data: Dictionary) -> NeuroBridgeResult:
	return NeuroBridgeResult.success()


func accept_and_finish(_data: Dictionary) -> NeuroBridgeResult:
	finish.call_deferred()
	return NeuroBridgeResult.success()


func _on_answered(action_name: String, _id: String, succeeded: bool, _message: String) -> void:
	say("answered %s %s" % [action_name, "success" if succeeded else "failure"])


func _on_connected(_url: String) -> void:
	connections += 1
	say("connected %d" % connections)
	if connections == 1:
		match scenario:
			"windows":
				_open_first_window()
			"lost":
				_force_one_neuro_loses()
			"owner":
				_open_a_level_window()
			"scene":
				_open_a_window_owned_by_this_scene()
			"pause":
				_pause_everything()
			"wire":
				_send_a_lot()
	elif scenario == "pause":
		var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
		window.add_action("resume", "Resume the game.", {}, accept_and_finish)
		window.force_after(0.3, "Resume")
		NeuroBridge.open_window(window)


func _on_disconnected(_code: int, _reason: String) -> void:
	say("disconnected")
	if scenario == "wire":
		NeuroBridge.send_context("While you were away, the board changed.", true)


# --------------------------------------------------------------------------- windows


func _open_first_window() -> void:
	var first: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	first.add_action("a_pick", "Pick.", {}, accept)
	first.add_action("a_other", "Something else.", {}, accept)
	first.force_after(0.0, "A")
	first.forced.connect(_replace_the_first_window, CONNECT_ONE_SHOT)
	NeuroBridge.open_window(first)


func _replace_the_first_window() -> void:
	var second: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	second.add_action("a_pick", "Pick again.", {}, accept)
	second.force_after(0.0, "B")
	second.forced.connect(_queue_a_plain_force, CONNECT_ONE_SHOT)
	second.ended.connect(_open_the_third_window.unbind(1), CONNECT_ONE_SHOT)
	NeuroBridge.open_window(second)


func _queue_a_plain_force() -> void:
	NeuroBridge.register_action("plain", "A plain action.", {}, accept)
	NeuroBridge.force("Plain", PackedStringArray(["plain"]))


func _open_the_third_window() -> void:
	var third: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	third.add_action("c", "C.", {}, accept)
	third.force_after(0.0, "C")
	third.ended.connect(finish.unbind(1), CONNECT_ONE_SHOT)
	NeuroBridge.open_window(third)


# --------------------------------------------------------------------------- lost


func _force_one_neuro_loses() -> void:
	ProjectSettings.set_setting("neuro_bridge/forces/resend_after_seconds", 1.0)
	NeuroBridge.force_given_up.connect(
		func(query: String, _names: PackedStringArray) -> void: say("given up: %s" % query)
	)
	NeuroBridge.register_action("lost_pick", "Pick.", {}, accept)
	NeuroBridge.register_action("next_pick", "Next.", {}, accept_and_finish)
	NeuroBridge.force("Lost", PackedStringArray(["lost_pick"]))
	NeuroBridge.force("Next", PackedStringArray(["next_pick"]))


# --------------------------------------------------------------------------- owner


func _open_a_level_window() -> void:
	var level: LevelNode = LevelNode.new()
	add_child(level)
	NeuroBridge.register_action("level_say", "Say something.", {}, level.on_say)
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add_action("level_pick", "Pick.", {}, accept)
	window.force_after(0.0, "Level")
	window.forced.connect(level.queue_free, CONNECT_ONE_SHOT)
	window.ended.connect(_after_the_level, CONNECT_ONE_SHOT)
	NeuroBridge.open_window(window, level)


func _after_the_level(reason: NeuroBridgeActionWindow.EndReason) -> void:
	say("level window ended: %d" % reason)
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add_action("after_pick", "Pick.", {}, accept_and_finish)
	window.force_after(0.0, "After")
	NeuroBridge.open_window(window, self)


# --------------------------------------------------------------------------- scene


func _open_a_window_owned_by_this_scene() -> void:
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add_action("scene_pick", "Pick.", {}, accept)
	window.force_after(0.0, "Scene")
	window.forced.connect(_change_scene, CONNECT_ONE_SHOT)
	NeuroBridge.open_window(window, self)


func _change_scene() -> void:
	say("changing the scene")
	get_tree().change_scene_to_file.call_deferred("res://next_scene.tscn")


# --------------------------------------------------------------------------- pause


func _pause_everything() -> void:
	Engine.time_scale = 0.0
	get_tree().paused = true
	say("paused")


# --------------------------------------------------------------------------- wire


func _send_a_lot() -> void:
	NeuroBridge.character_changed.connect(
		func(character: String, display_name: String) -> void:
			say("character %s (%s)" % [character, display_name])
	)
	var extras: Array[NeuroBridgeAction] = []
	for index: int in 200:
		var text: String = "Extra action %d. %s" % [index, "Filler text. ".repeat(30)]
		extras.append(NeuroBridgeAction.new("extra_%d" % index, text))
	NeuroBridge.register_all(extras)
	NeuroBridge.register_action("wave", "Wave.", {}, _on_wave)
	NeuroBridge.force("Big", PackedStringArray(["wave"]), "s".repeat(200000))
	var thread: Thread = Thread.new()
	thread.start(func() -> void: NeuroBridge.send_context("From a thread.", true))
	thread.wait_to_finish()


func _on_wave(data: Dictionary) -> NeuroBridgeResult:
	waves += 1
	say("wave %d %s, character %s" % [waves, JSON.stringify(data), NeuroBridge.character_id()])
	if waves == 2:
		finish.call_deferred()
	return NeuroBridgeResult.success()

extends SceneTree
## Runs the protocol test vectors (tests/vectors/*.json, copied to res://vectors/)
## against the addon: neuro_frames.json through a NeuroBridge whose _send records
## frames, game_calls.json through protocol.gd's checks and builders.  pytest runs the
## same files against the Python runtime (tests/test_vectors.py).
## Run: godot --headless --path PROJECT --script res://vector_tests.gd (exit status 1 on
## a failure; one "ok"/"FAIL" line per vector, then "N failed").

const Bridge = preload("res://addons/neuro_bridge/neuro_bridge.gd")
const Protocol = preload("res://addons/neuro_bridge/internal/protocol.gd")
const VECTORS: String = "res://vectors/"

var failures: int = 0
var passed: int = 0


## A NeuroBridge, connected as far as it knows, that records what it writes and emits.
class RecordingBridge:
	extends Bridge
	var frames: Array[Dictionary] = []
	var events: Array[Dictionary] = []
	var calls: Array[Dictionary] = []

	func _init() -> void:
		_open = true

	func _write_outbox() -> void:
		for text: String in _outbox:
			var frame: Dictionary = JSON.parse_string(text)
			frames.append(frame)
		_outbox.clear()

	func listen() -> void:
		shutdown_requested.connect(_on_shutdown_requested)
		shutdown_cancelled.connect(_on_shutdown_cancelled)
		speech_finished.connect(_on_speech_finished)
		startup_acknowledged.connect(_on_startup_acknowledged)

	func handler_for(action_name: String) -> Callable:
		return _handle.bind(action_name)

	func _handle(data: Dictionary, action_name: String) -> NeuroBridgeResult:
		calls.append({"action": action_name, "data": data})
		return NeuroBridgeResult.success()

	func _on_shutdown_requested(immediate: bool) -> void:
		events.append({"kind": "shutdown_requested", "immediate": immediate})

	func _on_shutdown_cancelled() -> void:
		events.append({"kind": "shutdown_cancelled"})

	func _on_speech_finished(is_final: bool) -> void:
		events.append({"kind": "speech_finished", "is_final": is_final})

	func _on_startup_acknowledged(session: Dictionary) -> void:
		events.append(
			{
				"kind": "startup_acknowledged",
				"session_id": session["sessionId"],
				"character_id": session["characterId"],
				"display_name": session["displayName"],
			}
		)


func _init() -> void:
	_run_neuro_frames(_load("neuro_frames.json"))
	_run_game_calls(_load("game_calls.json"))
	print("%d passed" % passed)
	print("%d failed" % failures)
	quit(1 if failures > 0 or passed == 0 else 0)


func _load(file_name: String) -> Dictionary:
	var text: String = FileAccess.get_file_as_string(VECTORS + file_name)
	var parsed: Variant = JSON.parse_string(text)
	if not parsed is Dictionary:
		_report(file_name, "loading", "cannot read %s%s" % [VECTORS, file_name])
		return {"vectors": []}
	return parsed


func _report(file_name: String, vector_name: String, problem: String) -> void:
	if problem.is_empty():
		passed += 1
		print("ok %s: %s" % [file_name, vector_name])
	else:
		failures += 1
		print("FAIL %s: %s: %s" % [file_name, vector_name, problem])


func _pending_here(vector: Dictionary) -> bool:
	var pending: Dictionary = vector.get("pending", {})
	return pending.has("godot")


# --------------------------------------------------------------------- Neuro -> game


func _run_neuro_frames(suite: Dictionary) -> void:
	for vector: Dictionary in suite["vectors"]:
		if _pending_here(vector):
			continue
		var bridge: RecordingBridge = RecordingBridge.new()
		bridge.game = "Vectors"
		root.add_child(bridge)
		var actions: Array = suite["actions"]
		var vector_name: String = vector["name"]
		_report("neuro_frames.json", vector_name, _neuro_frame(bridge, actions, vector))
		root.remove_child(bridge)
		bridge.free()


func _neuro_frame(bridge: RecordingBridge, actions: Array, vector: Dictionary) -> String:
	for definition: Dictionary in actions:
		var action_name: String = definition["name"]
		var description: String = definition["description"]
		var schema: Dictionary = definition.get("schema", {})
		var error: Error = bridge.register_action(
			action_name, description, schema, bridge.handler_for(action_name)
		)
		if error != OK:
			return "could not register %s" % action_name
	var given: Dictionary = vector.get("given", {})
	if given.has("force"):
		var force: Dictionary = given["force"]
		var forced: Array = force["action_names"]
		var query: String = force["query"]
		if bridge.force(query, PackedStringArray(forced)) != OK:
			return "could not force"
	bridge.listen()
	bridge.frames.clear()
	var text: String = vector["text"] if vector.has("text") else JSON.stringify(vector["frame"])
	bridge._on_frame(text)
	var expect: Dictionary = vector["expect"]
	return _check_outcome(bridge, expect)


func _check_outcome(bridge: RecordingBridge, expect: Dictionary) -> String:
	var results: Array[Dictionary] = []
	for frame: Dictionary in bridge.frames:
		if frame["command"] == "action/result":
			var data: Dictionary = frame["data"]
			results.append(data)
	var nothing_seen: bool = (
		bridge.frames.is_empty() and bridge.events.is_empty() and bridge.calls.is_empty()
	)
	var met: bool = false
	if expect.has("handled"):
		met = (
			bridge.calls.size() == 1
			and same(bridge.calls[0], expect["handled"])
			and results.size() == 1
			and results[0]["success"] == true
		)
	elif expect.has("refused"):
		var refused: Dictionary = expect["refused"]
		met = (
			bridge.calls.is_empty()
			and results.size() == 1
			and results[0]["success"] == false
			and results[0]["id"] == refused["id"]
		)
	elif expect.has("ignored"):
		met = nothing_seen
	elif expect.has("event"):
		met = (
			bridge.frames.is_empty()
			and bridge.events.size() == 1
			and same(bridge.events[0], expect["event"])
		)
	elif expect.has("sends"):
		var commands: Array = []
		for frame: Dictionary in bridge.frames:
			commands.append(frame["command"])
		met = same(commands, expect["sends"])
	if met:
		return ""
	return "expected %s; sent %s, events %s, handled %s" % [
		JSON.stringify(expect),
		JSON.stringify(bridge.frames),
		JSON.stringify(bridge.events),
		JSON.stringify(bridge.calls),
	]


# --------------------------------------------------------------------- game calls


func _run_game_calls(suite: Dictionary) -> void:
	var game: String = suite["game"]
	for vector: Dictionary in suite["vectors"]:
		if _pending_here(vector):
			continue
		var call_name: String = vector["call"]
		var args: Dictionary = vector["args"]
		var vector_name: String = vector["name"]
		var built: Dictionary = _build(game, call_name, args)
		var expect: Dictionary = vector["expect"]
		var problem: String = ""
		if expect.has("refused"):
			if not built.has("refused"):
				problem = "expected a refusal, built %s" % JSON.stringify(built)
		elif built.has("refused"):
			problem = "expected %s, refused: %s" % [JSON.stringify(expect["frame"]), built["refused"]]
		elif not same(built["frame"], expect["frame"]):
			problem = "expected %s, built %s" % [JSON.stringify(expect["frame"]), built["text"]]
		_report("game_calls.json", vector_name, problem)


## Returns {"frame": Dictionary, "text": String} or {"refused": String}.
func _build(game: String, call_name: String, args: Dictionary) -> Dictionary:
	var problem: String = ""
	var text: String = ""
	match call_name:
		"startup":
			text = Protocol.startup(game)
		"context":
			var message: String = args["message"]
			var silent: bool = args["silent"]
			problem = Protocol.check_context(message)
			text = Protocol.context(game, message, silent)
		"register":
			var wire: Array[Dictionary] = []
			for definition: Dictionary in args["actions"]:
				var action_name: String = definition["name"]
				var description: String = definition["description"]
				var schema: Dictionary = definition.get("schema", {})
				var action: NeuroBridgeAction = NeuroBridgeAction.new(action_name, description, schema)
				wire.append(action.to_wire())
			problem = Protocol.check_registration(wire)
			text = Protocol.actions_register(game, wire)
		"unregister":
			var listed: Array = args["action_names"]
			var names: PackedStringArray = PackedStringArray(listed)
			problem = Protocol.check_action_names(names)
			text = Protocol.actions_unregister(game, names)
		"force":
			var query: String = args["query"]
			var listed: Array = args["action_names"]
			var names: PackedStringArray = PackedStringArray(listed)
			var state: String = args.get("state", "")
			var ephemeral_context: bool = args.get("ephemeral_context", false)
			var priority: String = args.get("priority", "low")
			problem = Protocol.check_force(query, names, priority)
			text = Protocol.actions_force(game, query, names, state, ephemeral_context, priority)
		"result":
			var id: String = args["id"]
			var success: bool = args["success"]
			var message: String = args.get("message", "")
			var action_name: String = args.get("action", "")
			text = Protocol.action_result(game, id, success, message, action_name)
		"shutdown_ready":
			text = Protocol.shutdown_ready(game)
		_:
			problem = "unknown call %s" % call_name
	if not problem.is_empty():
		return {"refused": problem}
	var frame: Dictionary = JSON.parse_string(text)
	return {"frame": frame, "text": text}


# --------------------------------------------------------------------- comparing


## Whether two JSON values are equal, numbers compared by value (Godot reads every JSON
## number as a float; the addon hands schema integers to handlers as ints).
static func same(a: Variant, b: Variant) -> bool:
	var numbers: Array[int] = [TYPE_INT, TYPE_FLOAT]
	if typeof(a) in numbers and typeof(b) in numbers:
		var left_number: float = a
		var right_number: float = b
		return left_number == right_number
	if typeof(a) != typeof(b):
		return false
	if a is Dictionary:
		var left: Dictionary = a
		var right: Dictionary = b
		return _same_dictionaries(left, right)
	if a is Array:
		var left_items: Array = a
		var right_items: Array = b
		return _same_arrays(left_items, right_items)
	return a == b


static func _same_dictionaries(left: Dictionary, right: Dictionary) -> bool:
	if left.size() != right.size():
		return false
	for key: Variant in left:
		if not right.has(key) or not same(left[key], right[key]):
			return false
	return true


static func _same_arrays(left: Array, right: Array) -> bool:
	if left.size() != right.size():
		return false
	for index: int in left.size():
		if not same(left[index], right[index]):
			return false
	return true

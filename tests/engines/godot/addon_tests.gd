# gdlint: disable=max-public-methods
extends SceneTree
## Unit tests of the addon without a network: a NeuroBridge whose _send records frames.
## Run: godot --headless --path PROJECT --script res://addon_tests.gd (exit status 1 on
## a failure; one "ok"/"FAIL" line per test).

const Bridge = preload("res://addons/neuro_bridge/neuro_bridge.gd")
const Schema = preload("res://addons/neuro_bridge/internal/schema.gd")
const Settings = preload("res://addons/neuro_bridge/internal/settings.gd")
## The shared force-queue vectors (tests/vectors/force_queue.json), copied beside this.
const FORCE_VECTORS: String = "res://force_queue.json"

const CELL_SCHEMA: Dictionary = {
	"type": "object",
	"properties": {"cell": {"type": "integer", "minimum": 1, "maximum": 9}},
	"required": ["cell"],
}

var failures: int = 0


## A NeuroBridge that records what it would write instead of writing it, on a clock
## the test moves.
class RecordingBridge:
	extends Bridge
	var frames: Array[Dictionary] = []
	var clock: float = 1000.0

	func _init() -> void:
		_open = true

	func _now() -> float:
		return clock

	func _write_outbox() -> void:
		for text: String in _outbox:
			var frame: Dictionary = JSON.parse_string(text)
			frames.append(frame)
		_outbox.clear()

	func forces() -> Array[Dictionary]:
		var found: Array[Dictionary] = []
		for frame: Dictionary in frames:
			if frame["command"] == "actions/force":
				var data: Dictionary = frame["data"]
				found.append(data)
		return found

	func commands() -> PackedStringArray:
		var names: PackedStringArray = []
		for frame: Dictionary in frames:
			names.append(str(frame["command"]))
		return names

	func results() -> Array[Dictionary]:
		var found: Array[Dictionary] = []
		for frame: Dictionary in frames:
			if frame["command"] == "action/result":
				var data: Dictionary = frame["data"]
				found.append(data)
		return found

	func receive_action(id: String, action_name: String, data: Variant) -> void:
		var message: Dictionary = {"id": id, "name": action_name}
		if data != null:
			message["data"] = data
		_on_frame(JSON.stringify({"command": "action", "data": message}))


## Counts calls of a handler and what it saw.
class Handler:
	extends RefCounted
	var seen: Array[Dictionary] = []
	var answer: Variant = NeuroBridgeResult.success()

	func handle(data: Dictionary) -> Variant:
		seen.append(data)
		return answer


func _init() -> void:
	for method: Dictionary in get_method_list():
		var method_name: String = method["name"]
		if method_name.begins_with("test_"):
			var bridge: RecordingBridge = RecordingBridge.new()
			bridge.game = "Tests"
			root.add_child(bridge)
			var problem: String = call(method_name, bridge)
			if problem.is_empty():
				print("ok %s" % method_name)
			else:
				failures += 1
				print("FAIL %s: %s" % [method_name, problem])
			root.remove_child(bridge)
			bridge.free()
	print("%d failed" % failures)
	quit(1 if failures > 0 else 0)


func expect(condition: bool, problem: String) -> String:
	return "" if condition else problem


func test_schema_checks_the_safe_keywords(_bridge: RecordingBridge) -> String:
	var schema: Dictionary = {
		"type": "object",
		"properties": {
			"name": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^[a-z]+$"},
			"kind": {"enum": ["a", "b"]},
			"tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
			"n": {"type": "number", "exclusiveMinimum": 0},
		},
		"required": ["name"],
		"additionalProperties": false,
	}
	var cases: Dictionary = {
		'{"name": "abc"}': "",
		'{"name": "abc", "kind": "b", "tags": ["x"], "n": 0.5}': "",
		'{}': "missing the required key",
		'{"name": "a"}': "at least 2 characters",
		'{"name": "abcde"}': "at most 4 characters",
		'{"name": "AB"}': "match the pattern",
		'{"name": "ab", "kind": "c"}': "must be one of",
		'{"name": "ab", "tags": ["x", "y", "z"]}': "at most 2 items",
		'{"name": "ab", "tags": [1]}': "must be of type string",
		'{"name": "ab", "n": 0}': "must be >",
		'{"name": "ab", "other": 1}': "not allowed",
		'[]': "must be of type object",
	}
	for text: String in cases:
		var wanted: String = cases[text]
		var problem: String = Schema.check(JSON.parse_string(text), schema)
		var matched: bool = problem.is_empty() if wanted.is_empty() else problem.contains(wanted)
		if not matched:
			return "%s: wanted %s, got %s" % [text, JSON.stringify(wanted), JSON.stringify(problem)]
	return ""


func test_integers_reach_the_handler_as_ints(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("pick", "Pick a cell.", CELL_SCHEMA, handler.handle)
	bridge.receive_action("1", "pick", '{"cell": 3}')
	if handler.seen.size() != 1:
		return "handler ran %d times" % handler.seen.size()
	return expect(typeof(handler.seen[0]["cell"]) == TYPE_INT, "cell is not an int")


func test_bad_actions_are_answered_and_never_reach_the_handler(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("pick", "Pick a cell.", CELL_SCHEMA, handler.handle)
	bridge.receive_action("1", "nope", "{}")
	bridge.receive_action("2", "pick", '{"cell": 3,}')
	bridge.receive_action("3", "pick", '{"cell": 10}')
	bridge.receive_action("4", "pick", '{"cell": 2.5}')
	bridge.receive_action("5", "pick", null)
	bridge.receive_action("6", "pick", "not json")
	var results: Array[Dictionary] = bridge.results()
	if results.size() != 6:
		return "%d answers for 6 actions" % results.size()
	for result: Dictionary in results:
		if result["success"] != false or str(result.get("message", "")).is_empty():
			return "accepted or no message: %s" % result
	return expect(handler.seen.is_empty(), "the handler ran")


func test_a_repeated_id_is_answered_once(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("pick", "Pick a cell.", CELL_SCHEMA, handler.handle)
	bridge.receive_action("1", "pick", '{"cell": 3}')
	bridge.receive_action("1", "pick", '{"cell": 3}')
	return expect(bridge.results().size() == 1 and handler.seen.size() == 1, "answered twice")


func test_a_handler_that_returns_no_result_is_answered_with_failure(
	bridge: RecordingBridge
) -> String:
	var handler: Handler = Handler.new()
	handler.answer = null
	bridge.register_action("pick", "Pick a cell.", CELL_SCHEMA, handler.handle)
	bridge.receive_action("1", "pick", '{"cell": 3}')
	var results: Array[Dictionary] = bridge.results()
	var refused: bool = results.size() == 1 and not results[0]["success"]
	return expect(refused, str(results))


func test_a_window_unregisters_before_answering_success(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add_action("pick", "Pick a cell.", CELL_SCHEMA, handler.handle)
	window.set_context("Your turn.", true)
	window.force_after(0.0, "Pick one.", "Empty board.", true, "high")
	var reasons: Array[int] = []
	window.ended.connect(func(reason: int) -> void: reasons.append(reason))
	bridge.open_window(window)
	bridge._tick_windows()
	bridge.receive_action("1", "pick", '{"cell": 3}')
	var wanted: PackedStringArray = [
		"actions/register", "context", "actions/force", "actions/unregister", "action/result"
	]
	if bridge.commands() != wanted:
		return "sent %s" % bridge.commands()
	var force: Dictionary = bridge.frames[2]["data"]
	if force.get("priority") != "high" or force.get("ephemeral_context") != true:
		return "force %s" % force
	if reasons != [NeuroBridgeActionWindow.EndReason.SUCCEEDED]:
		return "ended %s" % reasons
	return expect(not bridge.is_registered("pick"), "still registered")


func test_a_window_times_out(bridge: RecordingBridge) -> String:
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add(NeuroBridgeAction.new("wave", "Wave."))
	window.end_after(1.0)
	bridge.open_window(window)
	bridge.clock += 0.6
	bridge._tick_windows()
	if not window.is_open():
		return "ended early"
	bridge.clock += 0.6
	bridge._tick_windows()
	if window.state != NeuroBridgeActionWindow.State.ENDED:
		return "still open"
	var wanted: PackedStringArray = ["actions/register", "actions/unregister"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_a_window_forces_when_its_condition_holds(bridge: RecordingBridge) -> String:
	var ready: Array[bool] = [false]
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add(NeuroBridgeAction.new("wave", "Wave."))
	window.force_when(func() -> bool: return ready[0], "Wave now.")
	bridge.open_window(window)
	bridge.clock += 5.0
	bridge._tick_windows()
	if bridge.commands().has("actions/force"):
		return "forced before the condition"
	ready[0] = true
	bridge.clock += 0.1
	bridge._tick_windows()
	return expect(window.state == NeuroBridgeActionWindow.State.FORCED, "not forced")


func test_one_force_in_flight(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge.register_action("b", "B.", {}, handler.handle)
	bridge.force("First.", PackedStringArray(["a"]))
	bridge.force("Second.", PackedStringArray(["b"]))
	if bridge.commands().count("actions/force") != 1:
		return "two forces in flight"
	bridge.receive_action("1", "a", null)
	if bridge.commands().count("actions/force") != 2:
		return "the second force was not sent after the first ended"
	var force: Dictionary = bridge.frames[-1]["data"]
	var query: String = force["query"]
	return expect(query == "Second.", str(force))


func test_registration_is_sent_again_only_when_it_changes(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("pick", "Pick.", CELL_SCHEMA, handler.handle)
	bridge.register_action("pick", "Pick.", CELL_SCHEMA, handler.handle)
	if bridge.commands() != PackedStringArray(["actions/register"]):
		return "identical registration sent again: %s" % bridge.commands()
	bridge.register_action("pick", "Pick a cell.", CELL_SCHEMA, handler.handle)
	var wanted: PackedStringArray = ["actions/register", "actions/unregister", "actions/register"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_a_reconnection_restores_actions_and_the_force(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge.force("Go.", PackedStringArray(["a"]))
	bridge.frames.clear()
	bridge._on_open()
	var wanted: PackedStringArray = ["startup", "actions/register", "actions/force"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_invalid_registrations_are_refused(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	var errors: Array[Error] = [
		bridge.register_action("Bad Name", "X.", {}, handler.handle),
		bridge.register_action("ok", "", {}, handler.handle),
		bridge.register_action("ok", "X.", {"type": "array"}, handler.handle),
		bridge.register_action("ok", "X.", {}, Callable()),
		bridge.force("", PackedStringArray(["ok"])),
		bridge.force("Go.", PackedStringArray(["unknown"])),
	]
	for error: Error in errors:
		if error != ERR_INVALID_PARAMETER:
			return "accepted: %s" % error_string(error)
	return expect(bridge.frames.is_empty(), "sent %s" % bridge.commands())


func test_the_frame_pacer_takes_the_cap_over_and_hands_it_back(_bridge: RecordingBridge) -> String:
	var reads: Array[int] = [0]
	var pacer: Bridge.FramePacer = Bridge.FramePacer.new(func() -> void: reads[0] += 1)
	Engine.max_fps = 50
	pacer._ready()  # as when it enters the tree (this script runs before the main loop)
	var taken: bool = Engine.max_fps == 0 and pacer.target_fps == 50
	pacer._process(0.0)  # the end of a frame: waits for the deadline, reading the socket
	pacer._exit_tree()
	var handed_back: int = Engine.max_fps
	Engine.max_fps = 0
	pacer.free()
	if not taken:
		return "the cap was not taken over"
	if reads[0] == 0:
		return "the socket was not read while waiting"
	return expect(handed_back == 50, "Engine.max_fps is %d after the pacer left" % handed_back)


func test_a_replaced_window_leaves_nothing_behind(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	var first: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	first.add_action("a_pick", "Pick.", {}, handler.handle)
	first.add_action("a_other", "Other.", {}, handler.handle)
	first.force_after(0.0, "First.")
	bridge.open_window(first)
	bridge._tick_windows()
	var second: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	second.add_action("a_pick", "Pick.", {}, handler.handle)
	second.force_after(0.0, "Second.")
	bridge.open_window(second)
	bridge._tick_windows()
	if first.state != NeuroBridgeActionWindow.State.ENDED or bridge.is_registered("a_other"):
		return "the replaced window is still there: %s" % bridge.registered_action_names()
	if bridge.forces().size() != 2 or bridge.forces()[1]["query"] != "Second.":
		return "the new window's force was not sent: %s" % [bridge.forces()]
	bridge.receive_action("1", "a_pick", null)
	var third: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	third.add_action("c", "C.", {}, handler.handle)
	third.force_after(0.0, "Third.")
	bridge.open_window(third)
	bridge._tick_windows()
	bridge.receive_action("2", "c", null)
	bridge.register_action("d", "D.", {}, handler.handle)
	bridge.force("Plain.", PackedStringArray(["d"]))
	var queries: Array[String] = []
	for force: Dictionary in bridge.forces():
		queries.append(str(force["query"]))
	return expect(queries == ["First.", "Second.", "Third.", "Plain."], str(queries))


func test_the_answer_goes_out_before_the_next_force(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add_action("pick", "Pick.", {}, handler.handle)
	window.force_after(0.0, "Pick.")
	bridge.open_window(window)
	bridge._tick_windows()
	bridge.register_action("next", "Next.", {}, handler.handle)
	bridge.force("Next.", PackedStringArray(["next"]))  # queued behind the window's
	bridge.frames.clear()
	bridge.receive_action("1", "pick", null)
	var wanted: PackedStringArray = ["actions/unregister", "action/result", "actions/force"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_what_a_handler_sends_goes_after_its_answer(bridge: RecordingBridge) -> String:
	var chatty: Callable = func(_data: Dictionary) -> NeuroBridgeResult:
		bridge.send_context("Neuro waved.")
		bridge.force("Wave again.", PackedStringArray(["wave"]))
		return NeuroBridgeResult.success()
	bridge.register_action("wave", "Wave.", {}, chatty)
	bridge.frames.clear()
	bridge.receive_action("1", "wave", null)
	var wanted: PackedStringArray = ["action/result", "context", "actions/force"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_a_force_neuro_ignores_is_sent_again_then_given_up(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge.register_action("b", "B.", {}, handler.handle)
	bridge.force("First.", PackedStringArray(["a"]))
	bridge.force("Second.", PackedStringArray(["b"]))
	var given_up: Array[String] = []
	bridge.force_given_up.connect(
		func(query: String, _names: PackedStringArray) -> void: given_up.append(query)
	)
	bridge.clock += 29.0
	bridge._check_force_overdue()
	if bridge.forces().size() != 1:
		return "re-sent too early"
	bridge.clock += 1.5
	bridge._check_force_overdue()
	if bridge.forces().size() != 2 or bridge.forces()[1]["query"] != "First.":
		return "not re-sent once: %s" % [bridge.forces()]
	bridge.clock += 29.0
	bridge._check_force_overdue()
	if bridge.forces().size() != 2:
		return "given up too early"
	bridge.clock += 1.5
	bridge._check_force_overdue()
	if given_up != ["First."]:
		return "not given up: %s" % [given_up]
	var last: Dictionary = bridge.forces()[-1]
	return expect(str(last["query"]) == "Second.", "the next force did not go out: %s" % last)


func test_an_action_for_the_force_restarts_its_clock(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	handler.answer = NeuroBridgeResult.failure("Not now.")
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge.force("First.", PackedStringArray(["a"]))
	bridge.clock += 20.0
	bridge.receive_action("1", "a", null)  # a failure: the force stays in flight
	bridge.clock += 20.0
	bridge._check_force_overdue()
	return expect(bridge.forces().size() == 1, "re-sent although Neuro acted on it")


func test_reregister_all_sends_the_actions_then_the_force(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge.force("Go.", PackedStringArray(["a"]))
	bridge.frames.clear()
	bridge._on_frame('{"command": "actions/reregister_all"}')
	var wanted: PackedStringArray = ["actions/register", "actions/force"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_a_reconnection_sends_contexts_before_the_force(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge._open = false
	bridge.send_context("The board changed.")
	bridge.force("Go.", PackedStringArray(["a"]))
	bridge.frames.clear()
	bridge._on_open()
	var wanted: PackedStringArray = ["startup", "actions/register", "context", "actions/force"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_blank_data_is_no_parameters(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	bridge.register_action("wave", "Wave.", {}, handler.handle)
	bridge.receive_action("1", "wave", "")
	bridge.receive_action("2", "wave", " \n")
	var results: Array[Dictionary] = bridge.results()
	var both: bool = results.size() == 2 and results[0]["success"] and results[1]["success"]
	return expect(both and handler.seen == [{}, {}], str(results))


func test_a_handler_on_a_freed_object_is_unregistered(bridge: RecordingBridge) -> String:
	var node: Node = Node.new()
	bridge.register_action("ping", "Ping.", {}, node.get_child_count)
	node.free()
	bridge._drop_freed_handlers()
	if bridge.is_registered("ping"):
		return "still registered"
	var wanted: PackedStringArray = ["actions/register", "actions/unregister"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_a_window_ends_with_its_owner(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	var scene: Node = Node.new()
	root.add_child(scene)
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add_action("pick", "Pick.", {}, handler.handle)
	window.force_after(10.0, "Pick.")
	bridge.open_window(window, scene)
	root.remove_child(scene)
	scene.free()
	bridge.clock += 20.0
	bridge._tick_windows()
	if window.state != NeuroBridgeActionWindow.State.ENDED:
		return "the window outlived its owner"
	var wanted: PackedStringArray = ["actions/register", "actions/unregister"]
	return expect(bridge.commands() == wanted, str(bridge.commands()))


func test_a_callable_query_is_read_when_the_force_is_sent(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	var turn: Array[int] = [1]
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge.register_action("b", "B.", {}, handler.handle)
	bridge.force("First.", PackedStringArray(["a"]))
	bridge.force(func() -> String: return "Turn %d." % turn[0], PackedStringArray(["b"]))
	turn[0] = 2
	bridge.receive_action("1", "a", null)
	var last: Dictionary = bridge.forces()[-1]
	return expect(str(last["query"]) == "Turn 2.", str(last))


func test_a_force_can_be_withdrawn_by_its_owner(bridge: RecordingBridge) -> String:
	var handler: Handler = Handler.new()
	var owner_token: RefCounted = RefCounted.new()
	bridge.register_action("a", "A.", {}, handler.handle)
	bridge.register_action("b", "B.", {}, handler.handle)
	bridge.force("First.", PackedStringArray(["a"]), "", false, "low", owner_token)
	bridge.force("Second.", PackedStringArray(["b"]), "", false, "low", owner_token)
	if bridge.withdraw_force(owner_token) != 2 or bridge.has_force_in_flight():
		return "not withdrawn"
	return expect(bridge.forces().size() == 1, str(bridge.forces()))


func test_badly_handled_schema_keywords_are_found(_bridge: RecordingBridge) -> String:
	var schema: Dictionary = {
		"type": "object",
		"properties": {
			"title": {"type": "string"},
			"cell": {"anyOf": [{"type": "integer"}, {"$ref": "#/x"}]},
		},
		"additionalProperties": false,
	}
	var found: PackedStringArray = Schema.badly_handled_keywords(schema)
	var wanted: PackedStringArray = [
		"properties.cell.anyOf", "properties.cell.anyOf.1.$ref", "additionalProperties"
	]
	return expect(found == wanted, str(found))


func test_the_sidecar_runs_only_where_it_can(_bridge: RecordingBridge) -> String:
	var python_to_use: Callable = Bridge.Sidecar.python_to_use
	var cases: Array[Array] = [
		# [setting, web, exported, allowed in exports, wanted]
		[" python3 ", false, false, false, "python3"],  # the editor, or a run from it
		["python3", false, true, false, ""],  # an exported build: not by default
		["python3", false, true, true, "python3"],  # ... unless the setting says so
		["python3", true, false, true, ""],  # the web: never
		["", false, false, false, ""],
	]
	for case: Array in cases:
		var chosen: String = python_to_use.call(case[0], case[1], case[2], case[3])
		if chosen != case[4]:
			return "%s gave %s" % [case, JSON.stringify(chosen)]
	return ""


func test_the_shared_force_queue_vectors(_bridge: RecordingBridge) -> String:
	if not FileAccess.file_exists(FORCE_VECTORS):
		return "%s is missing" % FORCE_VECTORS
	var vectors: Dictionary = JSON.parse_string(FileAccess.get_file_as_string(FORCE_VECTORS))
	var cases: Array = vectors["cases"]
	var problem: String = ""
	for case: Dictionary in cases:
		var bridge: RecordingBridge = RecordingBridge.new()
		bridge.game = "Vectors"
		problem = run_force_case(bridge, case)
		bridge.free()
		if not problem.is_empty():
			problem = "%s: %s" % [case["name"], problem]
			break
	ProjectSettings.set_setting(Settings.FORCE_RESEND_SECONDS, 30.0)
	if problem.is_empty() and cases.size() < 10:
		problem = "only %d cases" % cases.size()
	return problem


## Runs one case of the shared vectors on [param bridge]; returns the first mismatch.
func run_force_case(bridge: RecordingBridge, case: Dictionary) -> String:
	var config: Dictionary = case.get("config", {})
	var max_queued: float = config.get("max_queued", 16.0)
	var resend_after: float = config.get("resend_after", 30.0)
	bridge._forces.limit = int(max_queued)
	ProjectSettings.set_setting(Settings.FORCE_RESEND_SECONDS, resend_after)
	bridge.clock = 0.0
	var handler: Handler = Handler.new()
	var owners: Dictionary = {}
	var names_of: Dictionary = {}
	var steps: Array = case["steps"]
	for index: int in steps.size():
		var step: Dictionary = steps[index]
		var before: int = bridge.forces().size()
		if step.has("register"):
			var names: Array = step["register"]
			for action_name: String in names:
				bridge.register_action(action_name, "Action %s." % action_name, {}, handler.handle)
		elif step.has("unregister"):
			var gone: Array = step["unregister"]
			bridge.unregister(PackedStringArray(gone))
		elif step.has("force"):
			var asked: Dictionary = step["force"]
			var owner_token: RefCounted = null
			if asked.has("owner"):
				if not owners.has(asked["owner"]):
					owners[asked["owner"]] = RefCounted.new()
				owner_token = owners[asked["owner"]]
			var listed: Array = asked["names"]
			var query: String = asked["query"]
			var error: Error = bridge.force(
				query, PackedStringArray(listed), "", false, "low", owner_token
			)
			var refused: bool = step.get("refused", false)
			if (error != OK) != refused:
				return "step %d: force answered %s" % [index, error_string(error)]
		elif step.has("action"):
			var action: Dictionary = step["action"]
			var action_name: String = action["name"]
			names_of[action["id"]] = action_name
			bridge._action_arrived(action_name)
		elif step.has("result"):
			var result: Dictionary = step["result"]
			var id: String = result["id"]
			var answered_name: String = names_of[id]
			var succeeded: bool = result["success"]
			bridge._answer(id, answered_name, succeeded, "Result.")
			bridge._take_turn()
		elif step.has("withdraw"):
			var owner_of: RefCounted = owners.get(step["withdraw"])
			bridge.withdraw_force(owner_of)
		elif step.has("time"):
			var now: float = step["time"]
			bridge.clock = now
			bridge._check_force_overdue()
		var problem: String = check_force_step(bridge, step, before)
		if not problem.is_empty():
			return "step %d (%s): %s" % [index, JSON.stringify(step), problem]
	return ""


func check_force_step(bridge: RecordingBridge, step: Dictionary, before: int) -> String:
	var sent: Array = []
	for force: Dictionary in bridge.forces().slice(before):
		sent.append({"query": force["query"], "names": force["action_names"]})
	var wanted: Array = step.get("out", [])
	if JSON.stringify(sent) != JSON.stringify(wanted):
		return "sent %s, wanted %s" % [JSON.stringify(sent), JSON.stringify(wanted)]
	if step.has("state"):
		var in_flight: Variant = null
		if bridge.has_force_in_flight():
			in_flight = bridge._force["query"]
		var queued: Array = []
		for force: Dictionary in bridge._forces.queued():
			queued.append(force["query"])
		var state: Dictionary = {"in_flight": in_flight, "queued": queued}
		var expected: Dictionary = step["state"]
		var same: bool = state["in_flight"] == expected["in_flight"]
		if not same or JSON.stringify(queued) != JSON.stringify(expected["queued"]):
			return "state %s, wanted %s" % [JSON.stringify(state), JSON.stringify(expected)]
	return ""

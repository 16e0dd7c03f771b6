extends RefCounted
## The Neuro game API's messages: one builder per game-to-Neuro command and one reader
## for Neuro's frames, in the order of the specification's command tables.
##
## Builders return the text of one frame.  Optional fields are left out when they
## carry their default, so that strict servers see only what the specification lists;
## commands without data carry no [code]data[/code] key at all.  The [code]check_*[/code]
## functions say what a builder's arguments may not be (an empty string when they are
## fine).  The rules, and how the Python runtime shares them, are the decisions table in
## docs/protocol.rst; tests/vectors/*.json pin them for both runtimes.

const StrictJson = preload("res://addons/neuro_bridge/internal/strict_json.gd")

## The force priorities the specification defines, lowest first.
const PRIORITIES: PackedStringArray = ["low", "medium", "high", "critical"]

## The command Neuro sends to run an action.
const ACTION: String = "action"
const STARTUP_ACKNOWLEDGEMENT: String = "startup"
const REREGISTER_ALL: String = "actions/reregister_all"
const SHUTDOWN_GRACEFUL: String = "shutdown/graceful"
const SHUTDOWN_IMMEDIATE: String = "shutdown/immediate"
const SPEECH_FINISHED: String = "speech_finished"

## The message sent with [code]success: false[/code] when the game gave none and the
## action's name is not known (see [method result_message]).
const DEFAULT_FAILURE_MESSAGE: String = "The game could not perform that action right now."

const _NAME_PATTERN: String = "^[a-z0-9_-]+$"


## Returns an empty string when [param name] is a valid action name, else the reason.
static func check_action_name(name: String) -> String:
	var pattern: RegEx = RegEx.create_from_string(_NAME_PATTERN)
	if pattern.search(name) == null:
		return "action names use only lowercase letters, digits, '_' and '-', not %s" % [
			JSON.stringify(name)
		]
	return ""


## Returns an empty string when [param names] may go in an [code]actions/unregister[/code]
## or [code]actions/force[/code] (at least one, every one a valid name), else the reason.
static func check_action_names(names: PackedStringArray) -> String:
	if names.is_empty():
		return "no action names"
	for action_name: String in names:
		var problem: String = check_action_name(action_name)
		if not problem.is_empty():
			return problem
	return ""


## Returns an empty string when an action may be registered, else the reason: a valid
## name, a description that is not blank, a schema that is empty or an object schema.
static func check_action(name: String, description: String, schema: Dictionary) -> String:
	var problem: String = check_action_name(name)
	if not problem.is_empty():
		return problem
	if description.strip_edges().is_empty():
		return "%s has no description" % name
	if not schema.is_empty() and schema.get("type") != "object":
		return '%s\'s schema must be {"type": "object", ...} or empty' % name
	return ""


## Returns an empty string when [param actions] (each as [method actions_register] takes
## it) may go in one [code]actions/register[/code]: at least one, each valid (see
## [method check_action]), no name twice.
static func check_registration(actions: Array[Dictionary]) -> String:
	if actions.is_empty():
		return "no actions"
	var seen: Dictionary = {}
	for wire: Dictionary in actions:
		var action_name: String = str(wire.get("name", ""))
		var raw_schema: Variant = wire.get("schema", {})
		if not raw_schema is Dictionary:
			return '%s\'s schema must be {"type": "object", ...} or empty' % action_name
		var schema: Dictionary = raw_schema
		var problem: String = check_action(action_name, str(wire.get("description", "")), schema)
		if problem.is_empty() and seen.has(action_name):
			problem = "%s is in the batch twice" % action_name
		if not problem.is_empty():
			return problem
		seen[action_name] = true
	return ""


## Returns an empty string when [param message] may be sent as context (not blank).
static func check_context(message: String) -> String:
	if message.strip_edges().is_empty():
		return "the context message is empty"
	return ""


## Returns an empty string when a force may be sent with these values, else the reason:
## a query that is not blank, at least one valid name, a known priority.
static func check_force(query: String, names: PackedStringArray, priority: String) -> String:
	if query.strip_edges().is_empty():
		return "the query is empty"
	var problem: String = check_action_names(names)
	if not problem.is_empty():
		return problem
	if not PRIORITIES.has(priority):
		return "the priority must be one of %s" % ", ".join(PRIORITIES)
	return ""


static func startup(game: String) -> String:
	return _frame(game, "startup")


static func context(game: String, message: String, silent: bool) -> String:
	return _frame(game, "context", {"message": message, "silent": silent})


## [param actions] holds one [code]{name, description, schema?}[/code] per action.
static func actions_register(game: String, actions: Array[Dictionary]) -> String:
	return _frame(game, "actions/register", {"actions": actions})


static func actions_unregister(game: String, names: PackedStringArray) -> String:
	return _frame(game, "actions/unregister", {"action_names": Array(names)})


static func actions_force(
	game: String,
	query: String,
	names: PackedStringArray,
	state: String,
	ephemeral_context: bool,
	priority: String,
) -> String:
	var data: Dictionary = {"query": query, "action_names": Array(names)}
	if not state.strip_edges().is_empty():
		data["state"] = state
	if ephemeral_context:
		data["ephemeral_context"] = true
	if priority != "low":
		data["priority"] = priority
	return _frame(game, "actions/force", data)


## The message an [code]action/result[/code] carries is [method result_message]'s.
static func action_result(
	game: String, id: String, success: bool, message: String, action_name: String = ""
) -> String:
	var data: Dictionary = {"id": id, "success": success}
	message = result_message(success, message, action_name)
	if not message.is_empty():
		data["message"] = message
	return _frame(game, "action/result", data)


## What a result says (the Python runtime's [code]result_message[/code] rule): a failure
## with a blank [param message] says the game could not perform [param action_name]
## right now (never refused: every action needs its answer); a success with a blank one
## says nothing (the key is left out).
static func result_message(success: bool, message: String, action_name: String = "") -> String:
	if not message.strip_edges().is_empty():
		return message
	if success:
		return ""
	if not action_name.is_empty():
		return "The game could not perform '%s' right now." % action_name
	return DEFAULT_FAILURE_MESSAGE


static func shutdown_ready(game: String) -> String:
	return _frame(game, "shutdown/ready")


## Reads one frame from Neuro.
##
## Returns [code]{"command": String, "data": Dictionary}[/code], or
## [code]{"error": String}[/code] when the frame is not a JSON object with a string
## [code]command[/code], or when a known command other than [code]action[/code] lacks a
## field it needs or has one of the wrong type (such a frame is ignored: a missing
## [code]wants_shutdown[/code] is no shutdown request).  A missing or non-object
## [code]data[/code] reads as an empty Dictionary.  Unknown keys and unknown commands
## are never an error.  An [code]action[/code]'s fields are checked by
## [method read_action], since a bad one must still be answered when its id is readable.
static func read_frame(text: String) -> Dictionary:
	if not StrictJson.syntax_error(text).is_empty():
		return {"error": "not JSON"}
	var json: JSON = JSON.new()
	if json.parse(text) != OK:
		return {"error": "not JSON (%s at line %d)" % [json.get_error_message(), json.get_error_line()]}
	var frame: Variant = json.data
	if not frame is Dictionary:
		return {"error": "not a JSON object"}
	var envelope: Dictionary = frame
	var command: Variant = envelope.get("command")
	if not command is String:
		return {"error": "no string \"command\""}
	var raw_data: Variant = envelope.get("data", {})
	var data: Dictionary = raw_data if raw_data is Dictionary else {}
	var problem: String = _check_data(str(command), data)
	if not problem.is_empty():
		return {"error": "%s %s" % [command, problem]}
	return {"command": command, "data": data}


## Reads the data of an [code]action[/code] frame.  Returns [code]{"id": String,
## "name": String, "data": Variant}[/code] (data: the JSON string, or null when absent),
## with an [code]"error"[/code] key added when a field is missing or of the wrong type.
## An id that is not a string is returned as [code]""[/code] with [code]"answerable":
## false[/code]: such an action cannot be answered.
static func read_action(message: Dictionary) -> Dictionary:
	var id: Variant = message.get("id")
	var action_name: Variant = message.get("name")
	var raw: Variant = message.get("data")
	var read: Dictionary = {
		"id": id if id is String else "",
		"answerable": id is String,
		"name": action_name if action_name is String else "",
		"data": raw,
	}
	if not id is String:
		read["error"] = "the action has no string id"
	elif not action_name is String:
		read["error"] = "the action has no string name"
	elif raw != null and not raw is String:
		read["error"] = "data must be a JSON string"
	return read


## Parses an action's data string for an action with [param schema].  Returns
## [code]{"value": Variant}[/code] or [code]{"error": String}[/code].  An action without
## parameters (empty schema) ignores its data; for the others, absent or blank data is
## the empty object, then checked against the schema by the caller.
static func parse_action_data(raw: Variant, schema: Dictionary) -> Dictionary:
	if schema.is_empty() or raw == null:
		return {"value": {}}
	var text: String = raw
	if text.strip_edges().is_empty():
		return {"value": {}}
	var json: JSON = JSON.new()
	if not StrictJson.syntax_error(text).is_empty() or json.parse(text) != OK:
		return {"error": "data is not valid JSON"}
	return {"value": json.data}


static func _check_data(command: String, data: Dictionary) -> String:
	match command:
		SHUTDOWN_GRACEFUL:
			if not data.get("wants_shutdown") is bool:
				return 'needs a bool "wants_shutdown"'
		SPEECH_FINISHED:
			var cancelled: Variant = data.get("cancelled")
			var reason: Variant = data.get("reason")
			if not data.get("isFinal") is bool:
				return 'needs a bool "isFinal"'
			if cancelled != null and not cancelled is bool:
				return '"cancelled" must be a bool'
			if reason != null and not reason is String:
				return '"reason" must be a string'
		STARTUP_ACKNOWLEDGEMENT:
			var session: Variant = data.get("session")
			if not session is Dictionary:
				return 'needs a "session" object'
			var fields: Dictionary = session
			for key: String in ["sessionId", "characterId", "displayName"]:
				if not fields.get(key) is String:
					return 'needs a string "session.%s"' % key
	return ""


static func _frame(game: String, command: String, data: Variant = null) -> String:
	var message: Dictionary = {"command": command, "game": game}
	if data != null:
		message["data"] = data
	return JSON.stringify(message, "", false)

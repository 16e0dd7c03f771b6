extends RefCounted
## The Neuro game API's messages: one builder per game-to-Neuro command and one reader
## for Neuro's frames, in the order of the specification's command tables.
##
## Builders return the text of one frame.  Optional fields are left out when they
## carry their default, so that strict servers see only what the specification lists;
## commands without data carry no [code]data[/code] key at all.

## The force priorities the specification defines, lowest first.
const PRIORITIES: PackedStringArray = ["low", "medium", "high", "critical"]

## The command Neuro sends to run an action.
const ACTION: String = "action"
const STARTUP_ACKNOWLEDGEMENT: String = "startup"
const REREGISTER_ALL: String = "actions/reregister_all"
const SHUTDOWN_GRACEFUL: String = "shutdown/graceful"
const SHUTDOWN_IMMEDIATE: String = "shutdown/immediate"
const SPEECH_FINISHED: String = "speech_finished"

## The message sent with [code]success: false[/code] when the game gave none.
const DEFAULT_FAILURE_MESSAGE: String = "The action failed."

const _NAME_PATTERN: String = "^[a-z0-9_-]+$"


## Returns an empty string when [param name] is a valid action name, else the reason.
static func check_action_name(name: String) -> String:
	var pattern: RegEx = RegEx.create_from_string(_NAME_PATTERN)
	if pattern.search(name) == null:
		return "action names use only lowercase letters, digits, '_' and '-', not %s" % [
			JSON.stringify(name)
		]
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
	if not state.is_empty():
		data["state"] = state
	if ephemeral_context:
		data["ephemeral_context"] = true
	if priority != "low":
		data["priority"] = priority
	return _frame(game, "actions/force", data)


static func action_result(game: String, id: String, success: bool, message: String) -> String:
	var data: Dictionary = {"id": id, "success": success}
	if message.is_empty() and not success:
		message = DEFAULT_FAILURE_MESSAGE
	if not message.is_empty():
		data["message"] = message
	return _frame(game, "action/result", data)


static func shutdown_ready(game: String) -> String:
	return _frame(game, "shutdown/ready")


## Reads one frame from Neuro.
##
## Returns [code]{"command": String, "data": Dictionary}[/code], or
## [code]{"error": String}[/code] when the frame is not a JSON object with a string
## [code]command[/code].  A missing or non-object [code]data[/code] reads as an empty
## Dictionary; unknown keys are kept and never an error.
static func read_frame(text: String) -> Dictionary:
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
	var data: Variant = envelope.get("data", {})
	if not data is Dictionary:
		data = {}
	return {"command": command, "data": data}


static func _frame(game: String, command: String, data: Variant = null) -> String:
	var message: Dictionary = {"command": command, "game": game}
	if data != null:
		message["data"] = data
	return JSON.stringify(message, "", false)

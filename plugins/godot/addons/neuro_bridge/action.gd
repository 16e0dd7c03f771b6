class_name NeuroBridgeAction
extends RefCounted
## An action Neuro can perform, as a class: name, description, schema, and how the game
## validates and runs it.
##
## Extend it and set [member name], [member description] and [member schema] (in
## [code]_init[/code] or before registering), then override [method _validate] and
## [method _execute]:
## [codeblock]
## class_name PlayAction
## extends NeuroBridgeAction
##
## func _init() -> void:
##     name = "play"
##     description = "Place your mark in a free cell."
##     schema = {"type": "object", "properties": {"cell": {"type": "string"}}}
##
## func _validate(data: Dictionary, _state: Dictionary) -> NeuroBridgeResult:
##     return NeuroBridgeResult.success()
##
## func _execute(data: Dictionary, _state: Dictionary) -> void:
##     print("Neuro played ", data["cell"])
## [/codeblock]
## The [code]NeuroBridge[/code] autoload checks Neuro's data against [member schema]
## first; [method _validate] only sees data that matches it.  The result of
## [method _validate] is sent to Neuro at once, then [method _execute] runs (only on
## success), so a slow effect never delays the answer.

## The action's name: lowercase letters, digits, [code]_[/code] and [code]-[/code].
var name: String
## Plain text Neuro reads to decide when to use the action.
var description: String
## A JSON schema for the data, [code]{"type": "object", ...}[/code]; empty for none.
var schema: Dictionary


func _init(p_name: String = "", p_description: String = "", p_schema: Dictionary = {}) -> void:
	name = p_name
	description = p_description
	schema = p_schema


## Checks [param data] (already schema-checked) and returns the answer sent to Neuro.
## [param state] is an empty Dictionary shared with [method execute].
func validate(data: Dictionary, state: Dictionary) -> NeuroBridgeResult:
	return _validate(data, state)


## Runs the action's effect after a successful [method validate].
func execute(data: Dictionary, state: Dictionary) -> void:
	_execute(data, state)


## Returns the action as the specification's [code]{name, description, schema?}[/code].
func to_wire() -> Dictionary:
	var wire: Dictionary = {"name": name, "description": description}
	if not schema.is_empty():
		wire["schema"] = schema
	return wire


## Override: accept or refuse the action.  The default accepts it.
func _validate(_data: Dictionary, _state: Dictionary) -> NeuroBridgeResult:
	return NeuroBridgeResult.success()


## Override: do what the action does.  May [code]await[/code]; the answer is already sent.
func _execute(_data: Dictionary, _state: Dictionary) -> void:
	pass

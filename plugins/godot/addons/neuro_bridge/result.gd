class_name NeuroBridgeResult
extends RefCounted
## What the game answers to one of Neuro's actions: success or failure, with a message.
##
## Return one from a handler ([method NeuroBridge.register_action]) or from
## [method NeuroBridgeAction._validate].  A failure during a force makes Neuro retry the
## force; to report a problem without a retry, answer [method success] with the
## problem in the message.

## Whether the action was accepted.
var succeeded: bool
## What Neuro is told (may be empty for a success; never empty for a failure).
var message: String


func _init(p_succeeded: bool = true, p_message: String = "") -> void:
	succeeded = p_succeeded
	message = p_message


## The action was accepted; [param message] is optional.
static func success(p_message: String = "") -> NeuroBridgeResult:
	return NeuroBridgeResult.new(true, p_message)


## The action was refused; [param message] tells Neuro why, so her retry can do better.
static func failure(p_message: String) -> NeuroBridgeResult:
	return NeuroBridgeResult.new(false, p_message)


func _to_string() -> String:
	return "<NeuroBridgeResult %s%s>" % [
		"success" if succeeded else "failure", ": " + message if message else ""
	]

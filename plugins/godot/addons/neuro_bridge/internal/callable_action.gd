extends NeuroBridgeAction
## An action whose handler is a Callable (see [method NeuroBridge.register_action]).
##
## The handler takes the schema-checked data and returns a [NeuroBridgeResult], sent to
## Neuro as the answer.  It runs inside [method validate]: the answer goes out as soon as
## it returns, so it should start long effects (animations, [code]await[/code]) rather
## than wait for them.

var handler: Callable


func _init(
	p_name: String, p_description: String, p_schema: Dictionary, p_handler: Callable
) -> void:
	super(p_name, p_description, p_schema)
	handler = p_handler


func _validate(data: Dictionary, _state: Dictionary) -> NeuroBridgeResult:
	var answer: Variant = handler.call(data)
	if answer is NeuroBridgeResult:
		return answer
	push_error(
		(
			"NeuroBridge: the handler of %s returned %s, not a NeuroBridgeResult "
			+ "(it failed, or forgot to return); Neuro was told the action failed."
		)
		% [name, type_string(typeof(answer))]
	)
	return NeuroBridgeResult.failure("The game could not handle this action.")

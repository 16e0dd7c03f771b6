extends RefCounted
## The autoload's checks of what the game hands it: actions before they are registered,
## and the texts of a force (Strings, or Callables called when the force is sent).

const Protocol = preload("res://addons/neuro_bridge/internal/protocol.gd")
const Schema = preload("res://addons/neuro_bridge/internal/schema.gd")


## Returns the reason the batch cannot be registered, or an empty string (the rules are
## [method Protocol.check_registration]'s).
static func batch_problem(actions: Array[NeuroBridgeAction]) -> String:
	var wire: Array[Dictionary] = []
	for action: NeuroBridgeAction in actions:
		if action == null:
			return "null is not an action"
		wire.append(action.to_wire())
	return Protocol.check_registration(wire)


## Warns once per action name (kept in [param warned]) about the schema keywords the
## specification says Neuro handles badly.
static func warn_about_schema(action: NeuroBridgeAction, warned: Dictionary) -> void:
	if warned.has(action.name):
		return
	var keywords: PackedStringArray = Schema.badly_handled_keywords(action.schema)
	if keywords.is_empty():
		return
	warned[action.name] = true
	push_warning(
		(
			"NeuroBridge: the schema of %s uses %s, which Neuro handles badly (and the "
			+ "addon may not check); prefer type, properties, required, enum, items and "
			+ "the bounds."
		)
		% [action.name, ", ".join(keywords)]
	)


## The text of a force's query or state: a String, or what a Callable returns (an empty
## string, with a warning, when it cannot be called or returns no String).
static func text_of(value: Variant, what: String) -> String:
	if value is Callable:
		var callable: Callable = value
		if not callable.is_valid():
			push_warning("NeuroBridge: the force's %s Callable is no longer valid." % what)
			return ""
		var text: Variant = callable.call()
		if not text is String:
			push_warning("NeuroBridge: the force's %s Callable returned no String." % what)
			return ""
		return text
	return str(value)


## Returns why a force cannot be asked for, or an empty string.  [param registered] is
## keyed by the registered names.
static func force_problem(
	query: Variant,
	action_names: PackedStringArray,
	state: Variant,
	priority: String,
	registered: Dictionary,
) -> String:
	if not (query is Callable or query is String):
		return "the query must be a String or a Callable"
	if not (state is String or state is Callable):
		return "the state must be a String or a Callable"
	# A Callable's text is known when the force is sent; the other rules are Protocol's.
	var query_text: String = "(a Callable)" if query is Callable else str(query)
	var problem: String = Protocol.check_force(query_text, action_names, priority)
	if not problem.is_empty():
		return problem
	for action_name: String in action_names:
		if not registered.has(action_name):
			return "%s is not registered" % action_name
	return ""


## Returns a force's [code][query, state][/code] texts.  Callables are called the first
## time only (kept in the force as [code]text[/code]), so a re-send repeats the text Neuro
## already had; a blank query reads as a request to pick one of [param names].
static func force_texts(force: Dictionary, names: PackedStringArray) -> PackedStringArray:
	if not force.has("text"):
		var query: String = text_of(force["query"], "query")
		if query.strip_edges().is_empty():
			query = "Pick one of: %s." % ", ".join(names)
		force["text"] = PackedStringArray([query, text_of(force["state"], "state")])
	return force["text"]

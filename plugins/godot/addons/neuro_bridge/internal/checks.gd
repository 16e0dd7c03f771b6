extends RefCounted
## The autoload's checks of what the game hands it: actions before they are registered,
## and the texts of a force (Strings, or Callables called when the force is sent).

const Protocol = preload("res://addons/neuro_bridge/internal/protocol.gd")
const Schema = preload("res://addons/neuro_bridge/internal/schema.gd")


## Returns the reason the batch cannot be registered, or an empty string.
static func batch_problem(actions: Array[NeuroBridgeAction]) -> String:
	var seen: Dictionary = {}
	for action: NeuroBridgeAction in actions:
		var problem: String = action_problem(action)
		if problem.is_empty() and seen.has(action.name):
			problem = "%s is in the batch twice" % action.name
		if not problem.is_empty():
			return problem
		seen[action.name] = true
	return ""


## Returns the reason [param action] cannot be registered, or an empty string.
static func action_problem(action: NeuroBridgeAction) -> String:
	if action == null:
		return "null is not an action"
	var problem: String = Protocol.check_action_name(action.name)
	if not problem.is_empty():
		return problem
	if action.description.strip_edges().is_empty():
		return "%s has no description" % action.name
	if not action.schema.is_empty() and action.schema.get("type") != "object":
		return '%s\'s schema must be {"type": "object", ...} or empty' % action.name
	return ""


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
	if not (query is Callable or (query is String and not str(query).strip_edges().is_empty())):
		return "the query must be a non-empty String or a Callable"
	if not (state is String or state is Callable):
		return "the state must be a String or a Callable"
	if action_names.is_empty():
		return "no action names"
	if not Protocol.PRIORITIES.has(priority):
		return "the priority must be one of %s" % ", ".join(Protocol.PRIORITIES)
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

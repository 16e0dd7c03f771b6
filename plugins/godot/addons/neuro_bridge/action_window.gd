class_name NeuroBridgeActionWindow
extends RefCounted
## A set of actions offered to Neuro for one moment of the game: registered together,
## optionally forced after a delay or once a condition holds, and unregistered together
## when one of them succeeds or the window times out.
##
## Build it, then hand it to [method NeuroBridge.open_window]:
## [codeblock]
## var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
## window.add(PlayAction.new())
## window.set_context("Your turn. The board: ...", true)
## window.force_after(0.0, "Place your O.")
## NeuroBridge.open_window(window)
## [/codeblock]
## Once opened it cannot be changed.  While open, the [code]NeuroBridge[/code] autoload
## ticks it every frame (also while the scene tree is paused).  When an action of the
## window is answered with success, every action of the window is unregistered
## [i]before[/i] the answer goes out, so Neuro cannot pick one of them again.

## Emitted once the window's actions are registered.
signal opened
## Emitted when the window sends its force.
signal forced
## Emitted once when the window ends; its actions are unregistered by then.
signal ended(reason: EndReason)

## Where a window is in its life.
enum State {
	BUILDING,  ## Being built: actions, context, force and end can still be set.
	OPEN,  ## Registered; its force (if any) not sent yet.
	FORCED,  ## Registered, and its force was sent.
	ENDED,  ## Over: its actions are unregistered.
}

## Why a window ended.
enum EndReason {
	SUCCEEDED,  ## One of its actions was answered with success.
	TIMED_OUT,  ## [method end_after]'s time ran out.
	CLOSED,  ## [method close] was called (or the window was replaced).
}

## The window's current state.
var state: State = State.BUILDING
## The window's actions, in the order added.
var actions: Array[NeuroBridgeAction] = []
## Seconds since the window opened (real time: [member Engine.time_scale] and a
## paused tree do not slow it down).
var elapsed: float = 0.0
## When the window opened, in seconds of real time (see [method Time.get_ticks_usec]).
var opened_at: float = 0.0
## The instance id of the node the window belongs to ([method NeuroBridge.open_window]'s
## owner): the window ends when it leaves the tree or is freed.  0: none.
var owner_id: int = 0

var context_message: String = ""
var context_silent: bool = false
## Seconds after opening to send the force; negative: no timed force.
var force_delay: float = -1.0
## Returns [code]true[/code] when the force should be sent; invalid: none.
var force_condition: Callable = Callable()
var force_query: String = ""
var force_state: String = ""
var force_ephemeral_context: bool = false
var force_priority: String = "low"
## Seconds after opening to end the window; negative: never.
var end_delay: float = -1.0

var _closer: Callable = Callable()


## Adds an action class instance.  Returns the window, for chaining.
func add(action: NeuroBridgeAction) -> NeuroBridgeActionWindow:
	if _building("add an action"):
		actions.append(action)
	return self


## Adds an action handled by [param handler] (see [method NeuroBridge.register_action]).
func add_action(
	name: String, description: String, schema: Dictionary, handler: Callable
) -> NeuroBridgeActionWindow:
	const CallableAction = preload("res://addons/neuro_bridge/internal/callable_action.gd")
	if _building("add an action"):
		var action: NeuroBridgeAction = CallableAction.new(name, description, schema, handler)
		actions.append(action)
	return self


## Sends [param message] as context when the window opens.
func set_context(message: String, silent: bool = false) -> NeuroBridgeActionWindow:
	if _building("set the context"):
		context_message = message
		context_silent = silent
	return self


## Forces Neuro to pick one of the window's actions [param seconds] after it opens
## (0: at once).  See [method NeuroBridge.force] for the other parameters.
func force_after(
	seconds: float,
	query: String,
	p_state: String = "",
	ephemeral_context: bool = false,
	priority: String = "low",
) -> NeuroBridgeActionWindow:
	if _building("set the force"):
		force_delay = maxf(seconds, 0.0)
		_set_force(query, p_state, ephemeral_context, priority)
	return self


## Forces Neuro to pick one of the window's actions on the first frame on which
## [param condition] returns [code]true[/code].
func force_when(
	condition: Callable,
	query: String,
	p_state: String = "",
	ephemeral_context: bool = false,
	priority: String = "low",
) -> NeuroBridgeActionWindow:
	if _building("set the force"):
		force_condition = condition
		_set_force(query, p_state, ephemeral_context, priority)
	return self


## Ends the window [param seconds] after it opens if no action succeeded by then.
func end_after(seconds: float) -> NeuroBridgeActionWindow:
	if _building("set the end"):
		end_delay = maxf(seconds, 0.0)
	return self


## Ends the window now (its actions are unregistered).  Harmless once ended.
func close() -> void:
	if state == State.BUILDING:
		_mark_ended(EndReason.CLOSED)
	elif state != State.ENDED and _closer.is_valid():
		_closer.call(self, EndReason.CLOSED)


## Whether the window is registered and not ended.
func is_open() -> bool:
	return state == State.OPEN or state == State.FORCED


## Whether the window has a force to send (by delay or by condition).
func has_force() -> bool:
	return force_delay >= 0.0 or force_condition.is_valid()


## Returns the names of the window's actions.
func action_names() -> PackedStringArray:
	var names: PackedStringArray = []
	for action: NeuroBridgeAction in actions:
		names.append(action.name)
	return names


## Called by the autoload when it opens the window at [param now] (real time, seconds);
## [param closer] takes the window and an [enum EndReason] (not bound to the window:
## that would be a reference cycle).
func _mark_opened(closer: Callable, now: float) -> void:
	state = State.OPEN
	elapsed = 0.0
	opened_at = now
	_closer = closer
	opened.emit()


## Called by the autoload when it sends the window's force.
func _mark_forced() -> void:
	state = State.FORCED
	forced.emit()


## Called by the autoload when the window ends.
func _mark_ended(reason: EndReason) -> void:
	state = State.ENDED
	_closer = Callable()
	ended.emit(reason)


func _set_force(query: String, p_state: String, ephemeral_context: bool, priority: String) -> void:
	force_query = query
	force_state = p_state
	force_ephemeral_context = ephemeral_context
	force_priority = priority


func _building(what: String) -> bool:
	if state != State.BUILDING:
		push_error("NeuroBridgeActionWindow: cannot %s once the window is opened." % what)
		return false
	return true

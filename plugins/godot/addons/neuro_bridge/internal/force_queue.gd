extends RefCounted
## The forces waiting for their turn, and the clock of the one in flight: the shared
## force queue of every neuro-bridge runtime (the Python side is
## [code]neuro_bridge.forces.ForceQueue[/code]), with no I/O and no clock of its own.
##
## A force is a Dictionary ([code]query[/code], [code]action_names[/code],
## [code]state[/code], [code]ephemeral_context[/code], [code]priority[/code],
## [code]owner[/code]); the autoload keeps the one in flight and asks this queue for
## the next one when it ends:
## [br]- [method push] queues a force; a full queue ([member limit]) drops its oldest.
## [br]- [method withdraw] takes back the queued forces a predicate picks (a window
##   that ended withdraws its own).
## [br]- [method take_turn] pops the head trimmed to the names still registered, dropping
##   the heads none of whose names are left.
## [br]- [method sent], [method acted], [method overdue]: a force Neuro has not acted on
##   within [member resend_after] seconds is re-sent once, then given up.

## What [method overdue] says about the force in flight.
enum Overdue {
	NONE,  ## Nothing to do.
	RESEND,  ## Neuro has not acted on it for [member resend_after] s: send it again.
	GIVE_UP,  ## Still not acted on after the re-send: give it up, the next one's turn.
}

## How many forces may wait by default.
const LIMIT: int = 16

## How many forces may wait; pushing onto a full queue drops the oldest.
var limit: int = LIMIT

## Seconds Neuro has to act on the force in flight before it is re-sent (then given up).
var resend_after: float = 30.0

var _queued: Array[Dictionary] = []
## When the force in flight was sent or last acted on (-1: no force is timed).
var _since: float = -1.0
var _resent: bool = false


## Queues [param force]; returns the force dropped to make room, or an empty Dictionary.
func push(force: Dictionary) -> Dictionary:
	var evicted: Dictionary = {}
	if _queued.size() >= maxi(limit, 1):
		evicted = _queued.pop_front()
	_queued.append(force)
	return evicted


## Removes the queued forces for which [param predicate] (a force -> bool) holds and
## returns them, oldest first.
func withdraw(predicate: Callable) -> Array[Dictionary]:
	var kept: Array[Dictionary] = []
	var taken: Array[Dictionary] = []
	for force: Dictionary in _queued:
		if predicate.call(force) == true:
			taken.append(force)
		else:
			kept.append(force)
	_queued = kept
	return taken


## Takes the next force's turn: [code]{"send": force or {}, "dropped": [forces]}[/code].
## The head of the queue is trimmed to the names in [param registered] (a Dictionary
## keyed by the registered names); a head with none left is dropped and the next one is
## considered.  The force to send has its [code]action_names[/code] trimmed.
func take_turn(registered: Dictionary) -> Dictionary:
	var dropped: Array[Dictionary] = []
	while not _queued.is_empty():
		var head: Dictionary = _queued.pop_front()
		var names: PackedStringArray = head["action_names"]
		var left: PackedStringArray = []
		for action_name: String in names:
			if registered.has(action_name):
				left.append(action_name)
		if left.is_empty():
			dropped.append(head)
			continue
		var trimmed: Dictionary = head.duplicate()
		trimmed["action_names"] = left
		return {"send": trimmed, "dropped": dropped}
	return {"send": {}, "dropped": dropped}


## The force in flight was sent at [param now] (also after a reconnect): its clock
## starts again, and it may be re-sent once more.
func sent(now: float) -> void:
	_since = now
	_resent = false


## Neuro sent an action naming one of the force's actions at [param now]: the clock
## starts again.
func acted(now: float) -> void:
	if _since >= 0.0:
		_since = now


## No force is in flight any more: stop the clock.
func ended() -> void:
	_since = -1.0
	_resent = false


## Whether the force in flight is overdue at [param now].  [constant Overdue.RESEND]
## restarts the clock (the caller re-sends); [constant Overdue.GIVE_UP] stops it (the
## caller gives the force up and takes the next turn).
func overdue(now: float) -> Overdue:
	if _since < 0.0 or now - _since < resend_after:
		return Overdue.NONE
	if not _resent:
		_resent = true
		_since = now
		return Overdue.RESEND
	ended()
	return Overdue.GIVE_UP


## Whether [param force] was asked for by [param who] (its [code]owner[/code]).
static func owned_by(force: Dictionary, who: Object) -> bool:
	var owner_of: Variant = force.get("owner")
	return owner_of is Object and is_same(owner_of, who)


## How many forces wait.
func size() -> int:
	return _queued.size()


## The queued forces, oldest first (a copy).
func queued() -> Array[Dictionary]:
	return _queued.duplicate()


## Drops every queued force.
func clear() -> void:
	_queued.clear()

# gdlint: disable=max-file-lines
# (the autoload is the whole API a game calls, documented where it is declared)
extends Node
## The [code]NeuroBridge[/code] autoload: one connection to Neuro for the whole game.
##
## It connects to Neuro's websocket (the [code]NEURO_SDK_WS_URL[/code] environment
## variable, else the [code]neuro_bridge/connection/url[/code] project setting), keeps the
## game's current actions, answers every action Neuro sends exactly once, and reconnects
## on its own: after each (re)connection it sends [code]startup[/code], registers every
## current action and re-sends the force in flight, without waiting to be asked.
##
## Neuro's data is checked against the action's schema before any game code sees it:
## an unknown action, data that is not JSON or does not match the schema, a handler that
## fails -- each is answered with [code]success: false[/code] and a message, and never
## reaches the game.  Only one force is in flight at a time; later ones wait their turn.
##
## It runs while the scene tree is paused ([constant Node.PROCESS_MODE_ALWAYS]) and reads
## the socket every frame; its timers (reconnecting, windows, forces, the sidecar) count
## real time, whatever [member Engine.time_scale] is.  Called from another thread, the
## methods that send ([method send_context], [method force], [method register_all] and
## the others that register, [method unregister], [method open_window],
## [method send_shutdown_ready]) run on the main thread at the end of the frame instead
## (they return [constant OK] then; a problem is reported when they run).  On quit it
## unregisters the game's actions and closes the connection cleanly.
##
## With the [code]neuro_bridge/sidecar/python[/code] setting (a Python that has
## neuro-bridge installed), it starts the validating proxy ([code]neuro-bridge proxy[/code])
## as its sidecar and talks to Neuro through it: the sidecar checks both sides against
## the protocol's rules and connects to Neuro itself.  If the sidecar ends, the autoload
## says so ([signal sidecar_exited]), starts it again and restores the session.  It is
## used in the editor and runs from it, in exported builds only with
## [code]neuro_bridge/sidecar/in_exported_builds[/code], on the web never; one that
## cannot start (no such Python) costs one warning, then the game connects directly.

## Emitted when the connection is open and [code]startup[/code] and the current actions
## have been sent.  With a sidecar, [param url] is still Neuro's URL (the sidecar's own
## URL holds a token); the sidecar connects to Neuro on its own.
signal connected(url: String)
## Emitted when a sidecar was started and gave its URL (the connection to it follows).
signal sidecar_started(pid: int)
## Emitted when the sidecar ended ([param exit_code] -1 when it could not start or the
## system does not say).  The autoload starts it again unless
## [method disconnect_from_neuro] was called.
signal sidecar_exited(exit_code: int)
## Emitted when an open connection closed ([param code] is the websocket close code, -1
## when it was not closed cleanly).  The autoload reconnects unless
## [method disconnect_from_neuro] was called.
signal disconnected(code: int, reason: String)
## Emitted when a connection attempt failed.  The autoload tries again after
## [code]neuro_bridge/connection/reconnect_seconds[/code].
signal connection_failed(error: Error)
## Emitted for each action that passed the schema check, just before its handler runs.
signal action_received(action_name: String, data: Dictionary)
## Emitted for each answer sent to Neuro (also for unknown actions and bad data).
signal action_answered(action_name: String, id: String, succeeded: bool, message: String)
## Emitted when Neuro asks the game to shut down: [param immediate] for
## [code]shutdown/immediate[/code], else a graceful request.  Save, then call
## [method send_shutdown_ready].
signal shutdown_requested(immediate: bool)
## Emitted when Neuro withdraws a graceful shutdown request.
signal shutdown_cancelled
## Emitted when Neuro acknowledges [code]startup[/code] (not every server does);
## [param session] holds [code]sessionId[/code], [code]characterId[/code] and
## [code]displayName[/code].  The last one is kept: see [method character_id] and
## [method character_name].
signal startup_acknowledged(session: Dictionary)
## Emitted when an acknowledgement names another character than the one before (also
## the first time one names a character).
signal character_changed(character_id: String, display_name: String)
## Emitted when a force is given up: Neuro did not act on it within
## [code]neuro_bridge/forces/resend_after_seconds[/code], twice (it is re-sent once).
signal force_given_up(query: String, action_names: PackedStringArray)
## Emitted when Neuro finished, or was cut off in, her current speech.
signal speech_finished(is_final: bool)

const Protocol = preload("res://addons/neuro_bridge/internal/protocol.gd")
const Schema = preload("res://addons/neuro_bridge/internal/schema.gd")
const Settings = preload("res://addons/neuro_bridge/internal/settings.gd")
const CallableAction = preload("res://addons/neuro_bridge/internal/callable_action.gd")
const Sidecar = preload("res://addons/neuro_bridge/internal/sidecar.gd")
const FramePacer = preload("res://addons/neuro_bridge/internal/frame_pacer.gd")
const ForceQueue = preload("res://addons/neuro_bridge/internal/force_queue.gd")
const Checks = preload("res://addons/neuro_bridge/internal/checks.gd")

## How many context messages are kept while disconnected (the oldest are dropped).
const OFFLINE_CONTEXT_LIMIT: int = 64
## How many answered action ids are remembered, to answer a repeated id only once.
const ANSWERED_ID_LIMIT: int = 1024
## The longest wait before starting a sidecar again, in multiples of
## [code]neuro_bridge/connection/reconnect_seconds[/code] (the wait doubles after each
## sidecar that ended before the game could connect to it).
const SIDECAR_BACKOFF_LIMIT: int = 16
## The websocket's outbound buffer, in bytes (Godot's default is 64 KiB); a frame that
## does not fit yet is kept and written once there is room.
const OUTBOUND_BUFFER_BYTES: int = 16 << 20
## The websocket's inbound buffer, in bytes.
const INBOUND_BUFFER_BYTES: int = 1 << 20

## The game's name, sent in every message (set by [method connect_to_neuro]).
var game: String = ""
## The URL connected to (set by [method connect_to_neuro]).
var url: String = ""
## Keeps the frame rate cap in place of [member Engine.max_fps] and answers Neuro while it
## waits for the next frame ([code]neuro_bridge/timing/answer_between_frames[/code]);
## its [code]target_fps[/code] is the cap.  Added in [method Node._ready].
var frame_pacer: FramePacer = null

var _peer: WebSocketPeer = null
var _sidecar: Sidecar = Sidecar.new()
## The sidecar setting read by the last [method connect_to_neuro] (empty: no sidecar).
var _sidecar_python: String = ""
## Sidecars that ended in a row before the game connected to them.
var _sidecar_failures: int = 0
## Whether a sidecar got ready since [method connect_to_neuro] (if none ever does, the
## autoload connects directly).
var _sidecar_was_ready: bool = false
## Whether messages can be sent (open, and not closing).
var _open: bool = false
## Whether the current socket ever opened (its end is a disconnect, not a failure).
var _session_open: bool = false
var _closing: bool = false
var _wanted: bool = false
## When (real time, seconds) to try connecting again; negative: not scheduled.
var _retry_at: float = -1.0
var _dirty: bool = false
## Frames written while the socket's buffer was full, sent first once there is room.
var _outbox: PackedStringArray = []
## name -> NeuroBridgeAction, the actions currently registered.
var _actions: Dictionary = {}
## name -> NeuroBridgeActionWindow, for the actions of open windows.
var _window_of: Dictionary = {}
var _windows: Array[NeuroBridgeActionWindow] = []
## The force in flight ({} if none), and the ones waiting for it to end.
var _force: Dictionary = {}
var _forces: ForceQueue = ForceQueue.new()
## Actions that arrived and are not answered yet: no force goes out meanwhile.
var _awaiting_answers: int = 0
## While an action's handler runs: the frames it causes, sent after its answer.
var _in_handler: bool = false
var _held: PackedStringArray = []
## The last startup acknowledgement's session ({} until one came).
var _session: Dictionary = {}
## Names of the actions already warned about for their schema.
var _schema_warned: Dictionary = {}
var _offline_contexts: PackedStringArray = []
var _answered: Dictionary = {}
var _answered_order: PackedStringArray = []


func _ready() -> void:
	process_mode = Node.PROCESS_MODE_ALWAYS
	process_priority = -1000
	frame_pacer = FramePacer.new(_between_frames)
	add_child(frame_pacer)
	var connect_on_start: bool = Settings.get_value(Settings.CONNECT_ON_START)
	if connect_on_start:
		connect_to_neuro()


func _process(_delta: float) -> void:
	_poll_sidecar()
	_poll()
	_tick_windows()
	_drop_freed_handlers()
	_check_force_overdue()
	_flush()


## Called from another thread than the main one: calls [param method] with
## [param arguments] on the main thread instead (at the end of the frame) and returns
## true.  Game state and the socket are the main thread's.
func _deferred_from_thread(method: Callable, arguments: Array) -> bool:
	if OS.get_thread_caller_id() == OS.get_main_thread_id():
		return false
	method.bindv(arguments).call_deferred()
	return true


## Real time in seconds (monotonic; unaffected by [member Engine.time_scale] and pauses).
func _now() -> float:
	return Time.get_ticks_usec() / 1000000.0


## Reads the socket, handles what arrived and sends the answers (the frame pacer calls it
## while it waits for the next frame; the reconnect countdown and the sidecar watch stay
## once a frame, in [method _process]).
func _between_frames() -> void:
	if _peer != null:
		_poll()
	_flush()


func _flush() -> void:
	if _peer != null and not _outbox.is_empty() and _open:
		_write_outbox()
	if _dirty and _peer != null:
		_dirty = false
		_peer.poll()


func _exit_tree() -> void:
	_say_goodbye()


## On quit: unregisters the actions and closes the socket cleanly (once).
func _say_goodbye() -> void:
	if _peer == null:
		return
	if _open and not _actions.is_empty():
		_send(Protocol.actions_unregister(game, registered_action_names()))
	if _open:
		_write_outbox()
	_peer.close(1000, "game closed")
	_peer.poll()
	_open = false
	_closing = true


# --------------------------------------------------------------------------- connection


## Connects to Neuro and keeps reconnecting until [method disconnect_from_neuro].
##
## With the [code]neuro_bridge/sidecar/python[/code] setting, it first starts the
## sidecar (or keeps the running one if it proxies to the same URL) and connects through
## it.  To attach to a proxy started by hand instead, leave the setting empty and pass
## the URL the proxy printed (token included) as [param p_url].
##
## [param p_game] defaults to the [code]neuro_bridge/game/name[/code] setting (else the
## project's name); [param p_url] to [code]NEURO_SDK_WS_URL[/code] (else the
## [code]neuro_bridge/connection/url[/code] setting).  Called by the autoload itself
## when [code]neuro_bridge/connection/connect_on_start[/code] is on (the default).
## Returns [constant ERR_INVALID_PARAMETER] for an empty game name or a URL that is not
## [code]ws://[/code] or [code]wss://[/code]; connection errors arrive through
## [signal connection_failed].
func connect_to_neuro(p_game: String = "", p_url: String = "") -> Error:
	var new_game: String = p_game if not p_game.is_empty() else Settings.game_name()
	var new_url: String = p_url if not p_url.is_empty() else Settings.url()
	if new_game.is_empty():
		push_error("NeuroBridge: the game needs a name (neuro_bridge/game/name).")
		return ERR_INVALID_PARAMETER
	if not (new_url.begins_with("ws://") or new_url.begins_with("wss://")):
		push_error("NeuroBridge: %s is not a ws:// or wss:// URL." % JSON.stringify(new_url))
		return ERR_INVALID_PARAMETER
	if _peer != null:
		_close_peer(1000, "reconnecting")
	game = new_game
	url = new_url
	_wanted = true
	var in_exports: bool = Settings.get_value(Settings.SIDECAR_IN_EXPORTS)
	_sidecar_python = Sidecar.python_to_use(
		str(Settings.get_value(Settings.SIDECAR_PYTHON)),
		OS.has_feature("web"),
		OS.has_feature("template"),
		in_exports,
	)
	_sidecar_was_ready = _sidecar.is_ready() and not _sidecar_python.is_empty()
	if _sidecar_python.is_empty():
		_sidecar.stop()
		_start_attempt()
	elif _sidecar.is_ready() and _sidecar.upstream == url:
		_start_attempt()
	else:
		_start_sidecar()
	return OK


## Closes the connection and stops reconnecting.  The current actions are kept and
## registered again by the next [method connect_to_neuro].  Nothing more is sent;
## [signal disconnected] is emitted once the closing handshake is over (await it before
## quitting to leave Neuro a clean close).
func disconnect_from_neuro(code: int = 1000, reason: String = "") -> void:
	_wanted = false
	_retry_at = -1.0
	if _peer != null and not _closing:
		_closing = true
		_open = false
		_peer.close(code, reason)
		_dirty = true


## Whether the connection is open.
func is_connected_to_neuro() -> bool:
	return _open


## The process id of the running sidecar, or -1.
func sidecar_pid() -> int:
	return _sidecar.pid if _sidecar.is_running() else -1


func _start_attempt() -> void:
	_retry_at = -1.0
	_open = false
	_session_open = false
	_closing = false
	_outbox.clear()
	_peer = WebSocketPeer.new()
	_peer.outbound_buffer_size = OUTBOUND_BUFFER_BYTES
	_peer.inbound_buffer_size = INBOUND_BUFFER_BYTES
	var error: Error = _peer.connect_to_url(_sidecar.url if _sidecar.is_ready() else url)
	if error != OK:
		_peer = null
		_schedule_retry()
		connection_failed.emit(error)


func _schedule_retry(factor: int = 1) -> void:
	if _wanted:
		var seconds: float = Settings.get_value(Settings.RECONNECT_SECONDS)
		_retry_at = _now() + maxf(seconds, 0.05) * factor


## Starts the next connection attempt, or the sidecar first if it is not ready.
func _retry() -> void:
	if _sidecar_python.is_empty() or _sidecar.is_ready():
		_start_attempt()
	elif not _sidecar.is_running():
		_start_sidecar()


func _start_sidecar() -> void:
	_retry_at = -1.0
	var strict: bool = Settings.get_value(Settings.SIDECAR_STRICT)
	if _sidecar.start(_sidecar_python, url, strict) != OK:
		_on_sidecar_ended()  # it says what to do


## Once a frame (not between frames).
func _poll_sidecar() -> void:
	match _sidecar.poll():
		Sidecar.Change.READY:
			if not _wanted:  # disconnect_from_neuro() came while it was starting
				_sidecar.stop()
				return
			_sidecar_was_ready = true
			sidecar_started.emit(_sidecar.pid)
			if _peer == null:
				_start_attempt()
		Sidecar.Change.ENDED:
			_on_sidecar_ended()


func _on_sidecar_ended() -> void:
	var code: int = _sidecar.exit_code()
	if _peer != null:
		_close_peer(1001, "the sidecar ended")
	if _wanted and not _sidecar_was_ready:
		# It never ran (no Python there, no neuro-bridge in it): play without it.
		push_warning(
			(
				"NeuroBridge: the sidecar could not start with %s (exit code %d); connecting "
				+ "to Neuro directly instead. %s"
			)
			% [JSON.stringify(_sidecar_python), code, Sidecar.ADVICE]
		)
		_sidecar_python = ""
		_start_attempt()
	elif _wanted:
		_sidecar_failures += 1
		if _sidecar.url.is_empty():
			push_warning(
				(
					"NeuroBridge: the sidecar ended before it was ready (%s, exit code %d); "
					+ "its own message, if any, is above: %s Trying again."
				)
				% [JSON.stringify(_sidecar_python), code, Sidecar.ADVICE]
			)
		else:
			push_warning(
				"NeuroBridge: the sidecar ended (exit code %d); it will be started again." % code
			)
		var doublings: int = mini(_sidecar_failures - 1, 30)  # no overflow, however many
		_schedule_retry(mini(1 << doublings, SIDECAR_BACKOFF_LIMIT))
	sidecar_exited.emit(code)


func _close_peer(code: int, reason: String) -> void:
	var was_open: bool = _session_open
	_peer.close(code, reason)
	_peer.poll()
	_peer = null
	_open = false
	_session_open = false
	_closing = false
	if was_open:
		disconnected.emit(code, reason)


func _poll() -> void:
	if _peer == null:
		if _retry_at >= 0.0 and _now() >= _retry_at:
			_retry()
		return
	_peer.poll()
	var ready_state: WebSocketPeer.State = _peer.get_ready_state()
	if ready_state == WebSocketPeer.STATE_OPEN and not _closing:
		if not _session_open:
			_on_open()
		while _peer != null and _peer.get_available_packet_count() > 0:
			var packet: PackedByteArray = _peer.get_packet()
			_on_frame(packet.get_string_from_utf8())
	elif ready_state == WebSocketPeer.STATE_CLOSED:
		var was_open: bool = _session_open
		var code: int = _peer.get_close_code()
		var reason: String = _peer.get_close_reason()
		_peer = null
		_open = false
		_session_open = false
		_closing = false
		_schedule_retry()
		if was_open:
			disconnected.emit(code, reason)
		else:
			connection_failed.emit(ERR_CANT_CONNECT)


func _on_open() -> void:
	_open = true
	_session_open = true
	_sidecar_failures = 0
	# Restoration, in this order: startup, the actions, what happened meanwhile, the
	# force (Neuro reads the context that explains the force before its query).
	_send(Protocol.startup(game))
	_send_registration()
	for message: String in _offline_contexts:
		_send(message)
	_offline_contexts.clear()
	if not _force.is_empty():
		if _send_force(_force):
			_forces.sent(_now())
	else:
		_take_turn()
	connected.emit(url)


## Writes one frame (after those waiting in the outbox).  While an action's handler
## runs, the frame is held and written after the action's answer.  Returns false when
## not connected (nothing is written).
func _send(text: String) -> bool:
	if not _open:
		return false
	if _in_handler:
		_held.append(text)
		return true
	_outbox.append(text)
	_write_outbox()
	return true


## Writes the waiting frames, oldest first, until the socket's buffer is full.
func _write_outbox() -> void:
	var written: int = 0
	for text: String in _outbox:
		var error: Error = _peer.send_text(text)
		if error != OK:
			if written == 0 and _peer.get_current_outbound_buffered_amount() == 0:
				push_error(
					(
						"NeuroBridge: a message of %d bytes cannot be sent (%s); dropped."
						% [text.to_utf8_buffer().size(), error_string(error)]
					)
				)
				written += 1
				continue
			break
		written += 1
	if written > 0:
		_outbox = _outbox.slice(written)
		_dirty = true


# --------------------------------------------------------------------------- context


## Tells Neuro what happened.  [param silent]: she reads it without being prompted to
## speak.  Sent at once when connected, else kept (up to [constant OFFLINE_CONTEXT_LIMIT]
## messages) and sent after the next connection's registrations.
func send_context(message: String, silent: bool = false) -> Error:
	if _deferred_from_thread(send_context, [message, silent]):
		return OK
	var problem: String = Protocol.check_context(message)
	if not problem.is_empty():
		push_error("NeuroBridge: cannot send context: %s." % problem)
		return ERR_INVALID_PARAMETER
	var frame: String = Protocol.context(game, message, silent)
	if not _send(frame):
		if _offline_contexts.size() >= OFFLINE_CONTEXT_LIMIT:
			_offline_contexts.remove_at(0)
		_offline_contexts.append(frame)
	return OK


## Tells Neuro the game has saved and may be closed (the answer to
## [signal shutdown_requested]).
func send_shutdown_ready() -> void:
	if _deferred_from_thread(send_shutdown_ready, []):
		return
	_send(Protocol.shutdown_ready(game))


# --------------------------------------------------------------------------- actions


## Registers an action handled by a Callable.
##
## [param handler] takes the data (a Dictionary, already checked against
## [param schema]; numbers the schema types [code]integer[/code] are ints) and returns a
## [NeuroBridgeResult], which is sent to Neuro at once.  A handler that returns anything
## else -- for example because it hit a script error -- is answered with
## [code]success: false[/code].  [param schema] is [code]{"type": "object", ...}[/code],
## or empty for an action without parameters.
func register_action(
	action_name: String, description: String, schema: Dictionary, handler: Callable
) -> Error:
	if not handler.is_valid():
		push_error("NeuroBridge: the handler of %s is not a valid Callable." % action_name)
		return ERR_INVALID_PARAMETER
	var action: NeuroBridgeAction = CallableAction.new(action_name, description, schema, handler)
	return register(action)


## Registers an action class instance (see [NeuroBridgeAction]).
func register(action: NeuroBridgeAction) -> Error:
	var batch: Array[NeuroBridgeAction] = [action]
	return register_all(batch)


## Registers several actions in one message.  Nothing is registered if any is invalid.
## An action whose name is already registered replaces it (Neuro is told to drop the
## old definition first when it differs).
func register_all(actions: Array[NeuroBridgeAction]) -> Error:
	if _deferred_from_thread(register_all, [actions]):
		return OK
	var problem: String = Checks.batch_problem(actions)
	if not problem.is_empty():
		push_error("NeuroBridge: cannot register the actions: %s." % problem)
		return ERR_INVALID_PARAMETER
	var changed: PackedStringArray = []
	var wire: Array[Dictionary] = []
	for action: NeuroBridgeAction in actions:
		var old: NeuroBridgeAction = _actions.get(action.name)
		if old != null and old.to_wire() != action.to_wire():
			changed.append(action.name)
		if old == null or old.to_wire() != action.to_wire():
			wire.append(action.to_wire())
			Checks.warn_about_schema(action, _schema_warned)
		_actions[action.name] = action
	if not changed.is_empty():
		_send(Protocol.actions_unregister(game, changed))
	if not wire.is_empty():
		_send(Protocol.actions_register(game, wire))
	return OK


## Unregisters the named actions; names not registered are ignored.  A force whose
## actions are all unregistered ends (the next one's turn comes after this message).
func unregister(names: PackedStringArray) -> void:
	if _deferred_from_thread(unregister, [names]):
		return
	var gone: PackedStringArray = []
	for action_name: String in names:
		if _actions.erase(action_name):
			gone.append(action_name)
			_window_of.erase(action_name)
	if gone.is_empty():
		return
	_send(Protocol.actions_unregister(game, gone))
	if not _force.is_empty():
		var forced_names: PackedStringArray = _force["action_names"]
		if _registered_among(forced_names).is_empty():
			_end_force()


## Unregisters one action (see [method unregister]).
func unregister_action(action_name: String) -> void:
	unregister(PackedStringArray([action_name]))


## Whether an action of that name is registered.
func is_registered(action_name: String) -> bool:
	return _actions.has(action_name)


## Returns the names of the registered actions.
func registered_action_names() -> PackedStringArray:
	return PackedStringArray(_actions.keys())


func _send_registration() -> void:
	if _actions.is_empty():
		return
	var wire: Array[Dictionary] = []
	for action: NeuroBridgeAction in _actions.values():
		wire.append(action.to_wire())
	_send(Protocol.actions_register(game, wire))


func _registered_among(names: PackedStringArray) -> PackedStringArray:
	var present: PackedStringArray = []
	for action_name: String in names:
		if _actions.has(action_name):
			present.append(action_name)
	return present


## Unregisters the actions whose Callable handler's object was freed (Neuro would only
## get failures from them).
func _drop_freed_handlers() -> void:
	var freed: PackedStringArray = []
	for action: NeuroBridgeAction in _actions.values():
		if action is CallableAction and not (action as CallableAction).handler.is_valid():
			freed.append(action.name)
	if not freed.is_empty():
		print_verbose("NeuroBridge: the handlers of %s were freed; unregistered." % freed)
		unregister(freed)


# --------------------------------------------------------------------------- forces


## Makes Neuro pick one of [param action_names] (all registered) now.
##
## [param query] tells her what to do, [param state] describes the game's state; either
## may be a Callable returning the text, called when the force is sent (so a queued force
## describes the state of its turn).  [param ephemeral_context]: she forgets both after
## the force; [param priority] ([code]low[/code], [code]medium[/code], [code]high[/code],
## [code]critical[/code]) only matters while she speaks.  [param p_owner] is any object the
## force belongs to: [method withdraw_force] takes back the forces of an owner.
##
## Only one force is in flight: while one is, this one is queued (up to 16; a full queue
## drops its oldest) and sent when its turn comes, trimmed to the names still registered
## then (dropped if none are).  A force ends with a success for one of its actions, when
## all of its actions are unregistered, or when it is given up: Neuro did not act on it
## within [code]neuro_bridge/forces/resend_after_seconds[/code] (it is re-sent once,
## then given up, see [signal force_given_up]).  Returns [constant ERR_INVALID_PARAMETER]
## for an empty query, no names, an unregistered name or an unknown priority.
func force(
	query: Variant,
	action_names: PackedStringArray,
	state: Variant = "",
	ephemeral_context: bool = false,
	priority: String = "low",
	p_owner: Object = null,
) -> Error:
	var arguments: Array = [query, action_names, state, ephemeral_context, priority, p_owner]
	if _deferred_from_thread(force, arguments):
		return OK
	var problem: String = Checks.force_problem(query, action_names, state, priority, _actions)
	if not problem.is_empty():
		push_error("NeuroBridge: cannot force: %s." % problem)
		return ERR_INVALID_PARAMETER
	var pending: Dictionary = {
		"query": query,
		"action_names": action_names,
		"state": state,
		"ephemeral_context": ephemeral_context,
		"priority": priority,
		"owner": p_owner,
	}
	var evicted: Dictionary = _forces.push(pending)
	if not evicted.is_empty():
		push_warning(
			(
				"NeuroBridge: %d forces were waiting; the oldest (for %s) was dropped."
				% [_forces.limit, evicted["action_names"]]
			)
		)
	_take_turn()
	return OK


## Takes back the forces [param p_owner] asked for: the queued ones are dropped, the one
## in flight is given up (the next one's turn comes).  Returns how many there were.
func withdraw_force(p_owner: Object) -> int:
	if p_owner == null:
		return 0
	var count: int = _forces.withdraw(ForceQueue.owned_by.bind(p_owner)).size()
	if not _force.is_empty() and ForceQueue.owned_by(_force, p_owner):
		count += 1
		_end_force()
	return count


## Whether a force is in flight.
func has_force_in_flight() -> bool:
	return not _force.is_empty()


## Sends the next force when none is in flight and no action awaits its answer.
func _take_turn() -> void:
	if not _force.is_empty() or _awaiting_answers > 0:
		return
	var turn: Dictionary = _forces.take_turn(_actions)
	var dropped: Array[Dictionary] = turn["dropped"]
	for pending: Dictionary in dropped:
		print_verbose(
			"NeuroBridge: a queued force for %s was dropped: none of its actions is registered."
			% [pending["action_names"]]
		)
	var next: Dictionary = turn["send"]
	if not next.is_empty():
		_force = next
		if _send_force(next):
			_forces.sent(_now())


## Sends [param pending] (the force in flight) trimmed to the names registered now;
## returns whether it was written.  The caller starts its clock.
func _send_force(pending: Dictionary) -> bool:
	if not _open:
		return false  # sent (and its Callables read) once connected
	var wanted: PackedStringArray = pending["action_names"]
	var names: PackedStringArray = _registered_among(wanted)
	var texts: PackedStringArray = Checks.force_texts(pending, names)
	var query: String = texts[0]
	var state: String = texts[1]
	var ephemeral_context: bool = pending["ephemeral_context"]
	var priority: String = pending["priority"]
	var frame: String = Protocol.actions_force(
		game, query, names, state, ephemeral_context, priority
	)
	return _send(frame)


func _end_force() -> void:
	_force = {}
	_forces.ended()
	_take_turn()


func _check_force_overdue() -> void:
	if _force.is_empty() or not _open or _awaiting_answers > 0:
		return
	var seconds: float = Settings.get_value(Settings.FORCE_RESEND_SECONDS)
	if seconds <= 0.0:
		return
	_forces.resend_after = seconds
	match _forces.overdue(_now()):
		ForceQueue.Overdue.RESEND:
			print_verbose("NeuroBridge: Neuro has not acted on the force; sending it again.")
			_send_force(_force)  # the clock restarted, marked re-sent
		ForceQueue.Overdue.GIVE_UP:
			var names: PackedStringArray = _force["action_names"]
			var query: String = Checks.force_texts(_force, names)[0]
			push_warning(
				(
					"NeuroBridge: Neuro did not act on the force for %s (%s) in %s s, twice; "
					+ "given up (neuro_bridge/forces/resend_after_seconds)."
				)
				% [names, JSON.stringify(query), seconds]
			)
			_end_force()
			force_given_up.emit(query, names)


# --------------------------------------------------------------------------- windows


## Opens an action window: sends its context, registers its actions, and from then on
## forces and ends it as it was built (see [NeuroBridgeActionWindow]).
##
## An open window that has an action of the same name is replaced: it ends
## ([constant NeuroBridgeActionWindow.EndReason.CLOSED]), all of its actions are
## unregistered and its force is withdrawn.  With an [param p_owner] node, the window
## ends when the owner leaves the scene tree (a scene change, [method Node.queue_free])
## or is freed.  Returns [constant ERR_INVALID_PARAMETER] if it was opened before, has
## no actions, or one of its actions cannot be registered.
func open_window(window: NeuroBridgeActionWindow, p_owner: Node = null) -> Error:
	if _deferred_from_thread(open_window, [window, p_owner]):
		return OK
	if window.state != NeuroBridgeActionWindow.State.BUILDING:
		push_error("NeuroBridge: an action window can be opened only once.")
		return ERR_INVALID_PARAMETER
	if window.actions.is_empty():
		push_error("NeuroBridge: cannot open an action window without actions.")
		return ERR_INVALID_PARAMETER
	var problem: String = Checks.batch_problem(window.actions)
	if not problem.is_empty():
		push_error("NeuroBridge: cannot register the action: %s." % problem)
		return ERR_INVALID_PARAMETER
	for action_name: String in window.action_names():
		var previous: NeuroBridgeActionWindow = _window_of.get(action_name)
		if previous != null and previous != window:
			_end_window(previous, NeuroBridgeActionWindow.EndReason.CLOSED)
	var error: Error = register_all(window.actions)
	if error != OK:
		return error
	for action_name: String in window.action_names():
		_window_of[action_name] = window
	if not window.context_message.is_empty():
		send_context(window.context_message, window.context_silent)
	_windows.append(window)
	window._mark_opened(_end_window, _now())
	if p_owner != null:
		window.owner_id = p_owner.get_instance_id()
		if p_owner.is_inside_tree():
			p_owner.tree_exiting.connect(window.close, CONNECT_ONE_SHOT)
		else:
			p_owner.tree_entered.connect(_watch_owner.bind(window), CONNECT_ONE_SHOT)
	return OK


## Ends [param window]: all of its actions still registered for it are unregistered,
## its queued force is withdrawn and its force in flight given up, in that order on the
## wire; then the next force's turn comes.
func _end_window(
	window: NeuroBridgeActionWindow, reason: NeuroBridgeActionWindow.EndReason
) -> void:
	if window.state == NeuroBridgeActionWindow.State.ENDED:
		return
	_windows.erase(window)
	var names: PackedStringArray = []
	for action_name: String in window.action_names():
		if _window_of.get(action_name) == window:
			_window_of.erase(action_name)
			names.append(action_name)
	_forces.withdraw(ForceQueue.owned_by.bind(window))
	var owned: Dictionary = _force if ForceQueue.owned_by(_force, window) else {}
	unregister(names)
	if not owned.is_empty() and is_same(owned, _force):
		_end_force()
	# While an action awaits its answer, what the game does on "ended" goes after it.
	var holding: bool = _in_handler
	_in_handler = holding or _awaiting_answers > 0
	window._mark_ended(reason)
	_in_handler = holding
	_take_turn()


func _watch_owner(window: NeuroBridgeActionWindow) -> void:
	var node: Node = instance_from_id(window.owner_id) as Node
	if window.is_open() and node != null:
		node.tree_exiting.connect(window.close, CONNECT_ONE_SHOT)


func _tick_windows() -> void:
	var now: float = _now()
	for window: NeuroBridgeActionWindow in _windows.duplicate():
		if not window.is_open():
			continue
		if window.owner_id != 0 and not is_instance_id_valid(window.owner_id):
			_end_window(window, NeuroBridgeActionWindow.EndReason.CLOSED)
			continue
		window.elapsed = now - window.opened_at
		if window.state == NeuroBridgeActionWindow.State.OPEN and window.has_force():
			var due: bool = window.force_delay >= 0.0 and window.elapsed >= window.force_delay
			if not due and window.force_condition.is_valid():
				due = window.force_condition.call() == true
			if due:
				force(
					window.force_query,
					_registered_among(window.action_names()),
					window.force_state,
					window.force_ephemeral_context,
					window.force_priority,
					window,
				)
				window._mark_forced()
		if window.end_delay >= 0.0 and window.elapsed >= window.end_delay:
			_end_window(window, NeuroBridgeActionWindow.EndReason.TIMED_OUT)


# --------------------------------------------------------------------------- incoming


func _on_frame(text: String) -> void:
	var frame: Dictionary = Protocol.read_frame(text)
	if frame.has("error"):
		push_warning("NeuroBridge: ignored a frame from Neuro: %s." % frame["error"])
		return
	var data: Dictionary = frame["data"]
	match str(frame["command"]):
		Protocol.ACTION:
			_on_action(data)
		Protocol.REREGISTER_ALL:
			_on_reregister_all()
		Protocol.STARTUP_ACKNOWLEDGEMENT:
			var session: Dictionary = data["session"]
			_on_startup_acknowledged(session)
		Protocol.SHUTDOWN_GRACEFUL:
			if data["wants_shutdown"] == false:
				shutdown_cancelled.emit()
			else:
				shutdown_requested.emit(false)
		Protocol.SHUTDOWN_IMMEDIATE:
			shutdown_requested.emit(true)
		Protocol.SPEECH_FINISHED:
			speech_finished.emit(data["isFinal"] == true)
		var command:
			print_verbose("NeuroBridge: ignored the unknown command %s." % command)


## Neuro lost her state: every action again, then the force in flight.
func _on_reregister_all() -> void:
	_send_registration()
	if not _force.is_empty() and _send_force(_force):
		_forces.sent(_now())


func _on_startup_acknowledged(session: Dictionary) -> void:
	var before: String = character_id()
	_session = session
	if not character_id().is_empty() and character_id() != before:
		character_changed.emit(character_id(), character_name())
	startup_acknowledged.emit(session)


## The character Neuro's last acknowledgement named ([code]characterId[/code], e.g.
## [code]"neuro"[/code] or [code]"evil"[/code]); empty until one came.
func character_id() -> String:
	var value: Variant = _session.get("characterId", "")
	return value if value is String else ""


## The display name Neuro's last acknowledgement gave ([code]displayName[/code]).
func character_name() -> String:
	var value: Variant = _session.get("displayName", "")
	return value if value is String else ""


func _on_action(message: Dictionary) -> void:
	var read: Dictionary = Protocol.read_action(message)
	if not read["answerable"]:
		push_warning("NeuroBridge: an action without a string id cannot be answered; ignored.")
		return
	var action_id: String = read["id"]
	if _answered.has(action_id):
		print_verbose("NeuroBridge: action %s was already answered; ignored." % action_id)
		return
	var action_name: String = read["name"]
	_action_arrived(action_name)
	if read.has("error"):
		_answer(action_id, action_name, false, "Invalid action message: %s." % read["error"])
		_take_turn()
		return
	var action: NeuroBridgeAction = _actions.get(action_name)
	if action is CallableAction and not (action as CallableAction).handler.is_valid():
		unregister_action(action_name)  # its object was freed: Neuro must not retry it
		action = null
	if action == null:
		var known: String = ", ".join(registered_action_names())
		_answer(
			action_id,
			action_name,
			false,
			"Unknown action %s. Registered now: %s." % [
				JSON.stringify(action_name), known if not known.is_empty() else "none"
			]
		)
		_take_turn()
		return
	var parsed: Dictionary = _parse_data(read["data"], action.schema)
	if parsed.has("error"):
		var problem: String = "Invalid data for %s: %s." % [action_name, parsed["error"]]
		_answer(action_id, action_name, false, problem)
		_take_turn()
		return
	var data: Dictionary = parsed["value"]
	var window: NeuroBridgeActionWindow = _window_of.get(action_name)
	action_received.emit(action_name, data)
	# Until the answer is out no force goes out, and what the handler sends waits.
	_in_handler = true
	var state: Dictionary = {}
	var result: NeuroBridgeResult = action.validate(data, state)
	_in_handler = false
	if result == null:
		push_error("NeuroBridge: the action %s returned no NeuroBridgeResult." % action_name)
		result = NeuroBridgeResult.failure("The game could not handle this action.")
	if result.succeeded and window != null and window.is_open():
		_end_window(window, NeuroBridgeActionWindow.EndReason.SUCCEEDED)
	_answer(action_id, action_name, result.succeeded, result.message)
	var held: PackedStringArray = _held
	_held = []
	for text: String in held:
		_send(text)
	_take_turn()
	if result.succeeded:
		action.execute(data, state)


## Returns {"value": Dictionary} or {"error": String}.
func _parse_data(raw: Variant, schema: Dictionary) -> Dictionary:
	var parsed: Dictionary = Protocol.parse_action_data(raw, schema)
	if parsed.has("error") or schema.is_empty():
		return parsed
	var value: Variant = parsed["value"]
	var problem: String = Schema.check(value, schema)
	if not problem.is_empty():
		return {"error": problem}
	return {"value": Schema.coerce(value, schema)}


## An action arrived: until it is answered, no force goes out (the force's clock restarts
## when it names one of the force's actions).
func _action_arrived(action_name: String) -> void:
	_awaiting_answers += 1
	if not _force.is_empty():
		var forced_names: PackedStringArray = _force["action_names"]
		if forced_names.has(action_name):
			_forces.acted(_now())


## Sends the answer to an action that arrived.  A success for one of the force's actions
## ends the force (the caller then takes the next turn); a failure restarts its clock
## (Neuro retries it).
func _answer(id: String, action_name: String, succeeded: bool, message: String) -> void:
	_awaiting_answers = maxi(_awaiting_answers - 1, 0)
	if not _force.is_empty():
		var forced_names: PackedStringArray = _force["action_names"]
		if forced_names.has(action_name) and succeeded:
			_force = {}
			_forces.ended()
		elif forced_names.has(action_name):
			_forces.acted(_now())
	_answered[id] = true
	_answered_order.append(id)
	if _answered_order.size() > ANSWERED_ID_LIMIT:
		_answered.erase(_answered_order[0])
		_answered_order.remove_at(0)
	message = Protocol.result_message(succeeded, message, action_name)
	_send(Protocol.action_result(game, id, succeeded, message))
	action_answered.emit(action_name, id, succeeded, message)

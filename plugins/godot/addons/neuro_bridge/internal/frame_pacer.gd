extends Node
## Keeps the frame rate cap itself, so that Neuro is answered between frames.
##
## With [member Engine.max_fps] set, Godot sleeps between frames; an action that arrives
## during that sleep would be read only by the next frame, so its answer waits for the
## idle part of a frame (up to a whole frame at 60 FPS).  The pacer takes the cap over:
## it remembers it as [member target_fps], sets [member Engine.max_fps] to 0, and does
## the wait itself, in slices of at most [constant SLICE_USEC] microseconds, reading the
## socket and handling what arrived (on the main thread: handlers are game code) between
## slices.  Its deadlines follow Godot's own: one tick advanced by a frame's duration,
## pulled back when the game falls more than a frame behind.
##
## Where it waits: after the frame is drawn ([signal RenderingServer.frame_post_draw]),
## where Godot itself sleeps, so the frame is shown as early as without the pacer.
## When the previous frame was not drawn (headless, a minimised window, low-processor
## mode with nothing changed) it waits at the end of the process step instead: a node
## that processes last.  Waiting there when a frame is drawn would hold that frame back
## by the whole wait, which is why it is only the fallback.
##
## The game keeps setting the cap as usual: a positive [member Engine.max_fps] set later
## is adopted as the new target (and set back to 0) at the end of the frame.  While the
## pacer runs, [member Engine.max_fps] reads 0; read [member target_fps] instead, and set
## it to 0 to run uncapped.  With no cap (vsync only, or [member Engine.max_fps] 0), in
## Movie Maker mode (Godot does not sleep between frames then), on the web (the browser
## delivers socket data only between frames) or with
## [code]neuro_bridge/timing/answer_between_frames[/code] off it does nothing.  It hands
## the cap back to [member Engine.max_fps] when it leaves the tree.  Godot does not tell
## a script about [code]--fixed-fps[/code] (no sleep either): turn the setting off for
## runs with both it and a cap.

const Settings = preload("res://addons/neuro_bridge/internal/settings.gd")

## The longest sleep between two reads of the socket, in microseconds.
const SLICE_USEC: int = 1000

## The frame rate the pacer keeps (0: it does not pace).  Set it to change the cap, or
## to 0 to run uncapped; [member Engine.max_fps] stays 0 either way.
var target_fps: int = 0:
	set = set_target_fps

## Reads the socket and handles what arrived, then flushes what was queued.
var _service: Callable
var _enabled: bool = false
## The tick (microseconds) the current frame ends at.
var _deadline: int = 0
## The last frames that were drawn (-2: none), that ended their process step, and that
## waited.
var _drawn_frame: int = -2
var _processed_frame: int = -1
var _waited_frame: int = -1


func _init(service: Callable) -> void:
	_service = service
	name = "FramePacer"


func _ready() -> void:
	process_mode = Node.PROCESS_MODE_ALWAYS
	process_priority = 0x7FFFFFFF  # after every other node: the end of the process step
	var allowed: bool = Settings.get_value(Settings.ANSWER_BETWEEN_FRAMES)
	var movie_maker: bool = not Engine.get_write_movie_path().is_empty()
	var web: bool = OS.has_feature("web")
	_enabled = allowed and not movie_maker and not web and not Engine.is_editor_hint()
	if _enabled:
		RenderingServer.frame_post_draw.connect(_on_frame_post_draw)
		_adopt_max_fps()


func _exit_tree() -> void:
	if RenderingServer.frame_post_draw.is_connected(_on_frame_post_draw):
		RenderingServer.frame_post_draw.disconnect(_on_frame_post_draw)
	if target_fps > 0 and Engine.max_fps == 0:
		Engine.max_fps = target_fps
	target_fps = 0


## Sets [member target_fps] (negative values count as 0) and starts a new deadline.
func set_target_fps(fps: int) -> void:
	target_fps = maxi(fps, 0)
	_deadline = Time.get_ticks_usec()


func _process(_delta: float) -> void:
	if not _enabled:
		return
	var frame: int = Engine.get_process_frames()
	_processed_frame = frame
	_adopt_max_fps()
	# A frame drawn last time is likely drawn again: wait after it is (frame_post_draw).
	if target_fps > 0 and _drawn_frame != frame - 1:
		_wait_for_deadline(frame)


func _on_frame_post_draw() -> void:
	if OS.get_thread_caller_id() != OS.get_main_thread_id():
		return  # a threaded renderer: game code must not run here
	var frame: int = Engine.get_process_frames()
	_drawn_frame = frame
	# Only after this frame's process step (not for a draw forced in the middle of it).
	if _processed_frame != frame or _waited_frame == frame:
		return
	_adopt_max_fps()
	if target_fps > 0:
		_wait_for_deadline(frame)


func _adopt_max_fps() -> void:
	if Engine.max_fps > 0:
		target_fps = Engine.max_fps
		Engine.max_fps = 0


func _wait_for_deadline(frame: int) -> void:
	_waited_frame = frame
	var period: int = int(1000000.0 / target_fps)
	_deadline += period
	var now: int = Time.get_ticks_usec()
	while true:
		_service.call()
		now = Time.get_ticks_usec()
		if now >= _deadline:
			break
		OS.delay_usec(mini(SLICE_USEC, _deadline - now))
	_deadline = clampi(_deadline, now - period, now + period)

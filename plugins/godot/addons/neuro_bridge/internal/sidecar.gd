extends RefCounted
## The sidecar: a [code]neuro-bridge proxy[/code] process that the autoload starts,
## watches and starts again.
##
## It runs [code]PYTHON -m neuro_bridge proxy --port 0 --upstream URL --exit-with-game
## --game-pid PID --ready-file FILE[/code].  The proxy picks a free loopback port and a
## random token and writes its URL ([code]ws://127.0.0.1:PORT/?token=...[/code]) to
## FILE, whole and readable by this user only; the autoload then connects to that URL
## as it would to Neuro.  The proxy ends itself when the game's connection closed and
## did not come back, and when the game's process ended however it ended (a crash
## included), so a game never leaves one behind.  Its log goes to the game's console.

## What [method poll] saw happen.
enum Change {
	NONE,
	## The sidecar wrote its URL: connect to [member url].
	READY,
	## The sidecar ended (or could not start, or never got ready): see
	## [method exit_code].
	ENDED,
}

## What to check when the sidecar does not start.
const ADVICE: String = (
	"neuro_bridge/sidecar/python must name a Python that has neuro-bridge installed."
)
## Seconds the sidecar has to write its URL before it counts as failed and is stopped.
const START_TIMEOUT: float = 60.0

## The sidecar's process id (-1 when none was started).
var pid: int = -1
## The URL to connect to, token included (empty until [constant Change.READY]).
var url: String = ""
## The upstream URL it was started with.
var upstream: String = ""

var _running: bool = false
var _ready_file: String = ""
## When the sidecar was started (real time, in microseconds).
var _started_usec: int = 0
var _launches: int = 0
var _exit_code: int = -1


## Returns the Python to start the sidecar with, or an empty string for none: the
## [code]neuro_bridge/sidecar/python[/code] setting ([param python]) in the editor and
## in runs from it; in an exported build ([param exported]) only with
## [code]neuro_bridge/sidecar/in_exported_builds[/code] ([param allowed_in_exports]),
## since the developer's Python is not on the player's machine; on the web
## ([param web]) never, since a page cannot start processes.
static func python_to_use(
	python: String, web: bool, exported: bool, allowed_in_exports: bool
) -> String:
	if web or (exported and not allowed_in_exports):
		return ""
	return python.strip_edges()


## Starts the sidecar with [param python] (a command or path; the Python that has
## neuro-bridge installed) proxying to [param upstream].  Returns
## [constant ERR_CANT_CREATE] if the process could not be started; otherwise the URL
## arrives through [method poll].
func start(python: String, p_upstream: String, strict: bool) -> Error:
	stop()
	_launches += 1
	upstream = p_upstream
	url = ""
	_started_usec = Time.get_ticks_usec()
	_exit_code = -1
	var folder: String = OS.get_user_data_dir().path_join("neuro_bridge")
	DirAccess.make_dir_recursive_absolute(folder)
	_ready_file = folder.path_join("sidecar-%d-%d.url" % [OS.get_process_id(), _launches])
	if FileAccess.file_exists(_ready_file):
		DirAccess.remove_absolute(_ready_file)
	var arguments: PackedStringArray = [
		"-m",
		"neuro_bridge",
		"proxy",
		"--port",
		"0",
		"--upstream",
		upstream,
		"--exit-with-game",
		"--game-pid",
		str(OS.get_process_id()),
		"--ready-file",
		_ready_file,
	]
	if strict:
		arguments.append("--strict")
	pid = OS.create_process(python, arguments)
	if pid <= 0:
		pid = -1
		return ERR_CANT_CREATE
	_running = true
	return OK


## Whether a sidecar process is running (ready or not yet).
func is_running() -> bool:
	return _running


## Whether the sidecar is running and wrote its URL.
func is_ready() -> bool:
	return _running and not url.is_empty()


## Checks on the sidecar; call it every frame.  Its start timeout counts real time
## (neither [member Engine.time_scale] nor a paused tree stop it).
func poll() -> Change:
	if not _running:
		return Change.NONE
	if not OS.is_process_running(pid):
		_running = false
		_exit_code = OS.get_process_exit_code(pid)
		_forget_ready_file()
		return Change.ENDED
	if not url.is_empty():
		return Change.NONE
	if FileAccess.file_exists(_ready_file):
		url = FileAccess.get_file_as_string(_ready_file).strip_edges()
		_forget_ready_file()
		return Change.READY
	if Time.get_ticks_usec() - _started_usec > int(START_TIMEOUT * 1000000.0):
		push_warning(
			"NeuroBridge: the sidecar (pid %d) gave no URL in %d s; stopping it." % [pid, START_TIMEOUT]
		)
		stop()
		return Change.ENDED
	return Change.NONE


## The exit code of the sidecar that ended (-1 if it could not start, was stopped, or
## the system does not say).
func exit_code() -> int:
	return _exit_code


## Stops the sidecar if it runs (it is killed: it has nothing to save).
func stop() -> void:
	if _running:
		_running = false
		OS.kill(pid)
	_forget_ready_file()


func _forget_ready_file() -> void:
	if not _ready_file.is_empty() and FileAccess.file_exists(_ready_file):
		DirAccess.remove_absolute(_ready_file)

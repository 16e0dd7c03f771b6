extends Control
## Tic Tac Toe: a person plays X by clicking, Neuro plays O through the NeuroBridge
## autoload.  Neuro may also say something at any time (shown under the board).
##
## Options after [code]--[/code] on the command line:
## [code]--autoplay[/code] a simple bot plays X (for unattended runs and tests);
## [code]--games N[/code] quit after N games; [code]--seed N[/code] seeds the bot;
## [code]--bot-delay SECONDS[/code] how long the bot waits before its move (default
## [constant BOT_DELAY]; also the pause between games).

const Board = preload("res://board.gd")
const PlayAction = preload("res://play_action.gd")

const SAY_SCHEMA: Dictionary = {
	"type": "object",
	"properties": {"message": {"type": "string", "minLength": 1, "maxLength": 80}},
	"required": ["message"],
}

## Seconds the --autoplay bot waits before its move by default (a person takes longer).
const BOT_DELAY: float = 0.3

var board: Board = Board.new()
var games_played: int = 0
var results: PackedStringArray = []

var _autoplay: bool = false
var _games_wanted: int = 0
var _bot_delay: float = BOT_DELAY
var _rng: RandomNumberGenerator = RandomNumberGenerator.new()
var _neuro_to_play: bool = false
var _quit_after_game: bool = false
var _buttons: Array[Button] = []
var _status: Label = Label.new()
var _speech: Label = Label.new()
var _new_game_button: Button = Button.new()


func _ready() -> void:
	_read_options()
	_build_ui()
	NeuroBridge.register_action(
		"say", "Say something to your opponent; it is shown under the board.", SAY_SCHEMA, _on_say
	)
	NeuroBridge.shutdown_requested.connect(_on_shutdown_requested)
	NeuroBridge.action_answered.connect(_on_action_answered)
	NeuroBridge.shutdown_cancelled.connect(func() -> void: _quit_after_game = false)
	NeuroBridge.connection_failed.connect(
		func(error: Error) -> void: print("[tic-tac-toe] could not connect: %s" % error_string(error))
	)
	NeuroBridge.sidecar_started.connect(
		func(pid: int) -> void: print("[tic-tac-toe] sidecar started: pid %d" % pid)
	)
	NeuroBridge.sidecar_exited.connect(
		func(code: int) -> void: print("[tic-tac-toe] sidecar ended: exit code %d" % code)
	)
	_new_game()


func _read_options() -> void:
	var args: PackedStringArray = OS.get_cmdline_user_args()
	_autoplay = args.has("--autoplay")
	var games_at: int = args.find("--games")
	if games_at >= 0 and games_at + 1 < args.size():
		_games_wanted = args[games_at + 1].to_int()
	var delay_at: int = args.find("--bot-delay")
	if delay_at >= 0 and delay_at + 1 < args.size():
		_bot_delay = maxf(args[delay_at + 1].to_float(), 0.0)
	var seed_at: int = args.find("--seed")
	_rng.seed = args[seed_at + 1].to_int() if seed_at >= 0 and seed_at + 1 < args.size() else 1


func _build_ui() -> void:
	var column: VBoxContainer = VBoxContainer.new()
	column.set_anchors_and_offsets_preset(Control.PRESET_FULL_RECT)
	add_child(column)
	column.add_child(_status)
	var grid: GridContainer = GridContainer.new()
	grid.columns = 3
	column.add_child(grid)
	for index: int in 9:
		var button: Button = Button.new()
		button.custom_minimum_size = Vector2(150, 150)
		button.add_theme_font_size_override("font_size", 64)
		button.tooltip_text = Board.CELL_NAMES[index]
		button.pressed.connect(_person_plays.bind(index))
		grid.add_child(button)
		_buttons.append(button)
	column.add_child(_speech)
	_new_game_button.text = "New game"
	_new_game_button.pressed.connect(_new_game)
	column.add_child(_new_game_button)


func _new_game() -> void:
	board = Board.new()
	_neuro_to_play = false
	_new_game_button.visible = false
	_refresh("Your turn: you are X.")
	NeuroBridge.send_context(
		"A new game of Tic Tac Toe starts. You play O; your opponent plays X and moves first.",
		true
	)
	_let_bot_play()


func _person_plays(index: int) -> void:
	if _neuro_to_play or board.is_over() or not board.is_free(index):
		return
	board.place(index, "X")
	NeuroBridge.send_context(
		"Your opponent placed an X in the %s cell." % Board.CELL_NAMES[index], true
	)
	if board.is_over():
		_finish()
		return
	_neuro_to_play = true
	_refresh("Neuro is thinking...")
	var window: NeuroBridgeActionWindow = NeuroBridgeActionWindow.new()
	window.add(PlayAction.new(board.free_cell_names(), _neuro_plays))
	window.force_after(0.0, "It is your turn. Place your O in a free cell.", board.describe())
	NeuroBridge.open_window(window)


func _neuro_plays(index: int) -> void:
	if not _neuro_to_play or not board.is_free(index):
		return
	board.place(index, "O")
	_neuro_to_play = false
	if board.is_over():
		_finish()
		return
	_refresh("Your turn: you are X.")
	_let_bot_play()


func _on_say(data: Dictionary) -> NeuroBridgeResult:
	var message: String = data["message"]
	print("[tic-tac-toe] Neuro's say reached the game: %s" % message)
	_speech.text = "Neuro: " + message
	return NeuroBridgeResult.success()


## Logs every answer the addon sent (unknown actions and bad data included).
func _on_action_answered(action_name: String, id: String, succeeded: bool, message: String) -> void:
	print(
		"[tic-tac-toe] answered %s %s: %s %s"
		% [action_name, id, "success" if succeeded else "failure", message]
	)


func _finish() -> void:
	var winner: String = board.winner()
	var result: String = "draw"
	var spoken: String = "The game is a draw."
	if winner == "O":
		result = "neuro"
		spoken = "You won this game. Well played!"
	elif winner == "X":
		result = "person"
		spoken = "Your opponent won this game."
	results.append(result)
	games_played += 1
	_refresh(spoken.replace("You", "Neuro").replace("Your opponent", "You"))
	print(
		"[tic-tac-toe] game %d over: %s (fps=%d)"
		% [games_played, result, Engine.get_frames_per_second()]
	)
	NeuroBridge.send_context(spoken, false)
	if _quit_after_game or (_games_wanted > 0 and games_played >= _games_wanted):
		_quit()
	elif _autoplay:
		get_tree().create_timer(_bot_delay).timeout.connect(_new_game)
	else:
		_new_game_button.visible = true


func _let_bot_play() -> void:
	if _autoplay and not board.is_over():
		get_tree().create_timer(_bot_delay).timeout.connect(func() -> void: _person_plays(_bot_move()))


## A fair opponent: win if it can, block if it must, else the center, else any cell.
func _bot_move() -> int:
	var move: int = board.winning_move("X")
	if move < 0:
		move = board.winning_move("O")
	if move < 0 and board.is_free(4):
		move = 4
	if move < 0:
		var free: PackedInt32Array = board.free_cells()
		move = free[_rng.randi_range(0, free.size() - 1)]
	return move


func _on_shutdown_requested(immediate: bool) -> void:
	if immediate or board.is_over():
		NeuroBridge.send_shutdown_ready()
		_quit()
	else:
		_quit_after_game = true


func _refresh(status: String) -> void:
	_status.text = status
	for index: int in 9:
		_buttons[index].text = board.cells[index]


func _quit() -> void:
	if _quit_after_game:
		NeuroBridge.send_shutdown_ready()
	print("[tic-tac-toe] done: %d games (%s)" % [games_played, ", ".join(results)])
	# Leave Neuro a clean close, but never wait for it for long.
	get_tree().create_timer(2.0).timeout.connect(get_tree().quit)
	if NeuroBridge.is_connected_to_neuro():
		NeuroBridge.disconnect_from_neuro()
		await NeuroBridge.disconnected
	get_tree().quit()

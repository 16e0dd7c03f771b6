extends NeuroBridgeAction
## Neuro's move: place an O in one of the cells that are free right now.
##
## The schema lists the free cells, so NeuroBridge refuses any other cell before the
## game sees it; [method _validate] only has to turn the name into an index.

const Board = preload("res://board.gd")

var _on_play: Callable


## [param on_play] receives the index of the chosen cell.
func _init(free_cells: PackedStringArray, on_play: Callable) -> void:
	super(
		"play",
		"Place your O in a free cell of the Tic Tac Toe board.",
		{
			"type": "object",
			"properties": {"cell": {"type": "string", "enum": Array(free_cells)}},
			"required": ["cell"],
		},
	)
	_on_play = on_play


func _validate(data: Dictionary, state: Dictionary) -> NeuroBridgeResult:
	var cell: String = data["cell"]
	state["index"] = Board.CELL_NAMES.find(cell)
	print("[tic-tac-toe] Neuro's play reached the game: %s" % cell)
	return NeuroBridgeResult.success("You placed an O in the %s cell." % cell)


func _execute(_data: Dictionary, state: Dictionary) -> void:
	_on_play.call(state["index"])

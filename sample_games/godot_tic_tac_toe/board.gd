extends RefCounted
## The rules of Tic Tac Toe, without any user interface.

## The cells' names, row by row from the top left, as Neuro and the person see them.
const CELL_NAMES: PackedStringArray = [
	"top-left", "top", "top-right",
	"left", "center", "right",
	"bottom-left", "bottom", "bottom-right",
]
## The eight lines, three cell indexes each.
const LINES: PackedInt32Array = [
	0, 1, 2, 3, 4, 5, 6, 7, 8,
	0, 3, 6, 1, 4, 7, 2, 5, 8,
	0, 4, 8, 2, 4, 6,
]

## "X", "O" or "" for each cell.
var cells: PackedStringArray = ["", "", "", "", "", "", "", "", ""]


## Puts [param mark] in the free cell [param index].
func place(index: int, mark: String) -> void:
	assert(cells[index].is_empty(), "the cell is taken")
	cells[index] = mark


func is_free(index: int) -> bool:
	return index >= 0 and index < cells.size() and cells[index].is_empty()


func free_cells() -> PackedInt32Array:
	var free: PackedInt32Array = []
	for index: int in cells.size():
		if cells[index].is_empty():
			free.append(index)
	return free


func free_cell_names() -> PackedStringArray:
	var names: PackedStringArray = []
	for index: int in free_cells():
		names.append(CELL_NAMES[index])
	return names


## Returns "X" or "O" for a winner, else "".
func winner() -> String:
	for start: int in range(0, LINES.size(), 3):
		var a: String = cells[LINES[start]]
		if not a.is_empty() and a == cells[LINES[start + 1]] and a == cells[LINES[start + 2]]:
			return a
	return ""


func is_over() -> bool:
	return not winner().is_empty() or free_cells().is_empty()


## Returns the cell that completes a line for [param mark], or -1.
func winning_move(mark: String) -> int:
	for index: int in free_cells():
		cells[index] = mark
		var wins: bool = winner() == mark
		cells[index] = ""
		if wins:
			return index
	return -1


## The board in words, for Neuro.
func describe() -> String:
	var rows: PackedStringArray = []
	for row: int in 3:
		var marks: PackedStringArray = []
		for column: int in 3:
			var mark: String = cells[row * 3 + column]
			marks.append(mark if not mark.is_empty() else ".")
		rows.append(" ".join(marks))
	return "The board, top row first: %s. Free cells: %s." % [
		" / ".join(rows), ", ".join(free_cell_names())
	]

extends RefCounted
## A strict JSON syntax check (RFC 8259), for Neuro's action data.
##
## Godot's own parser is lenient (it accepts trailing commas, for one), so data Neuro
## sends broken could reach the game as if it were fine.  [method syntax_error] checks
## the text first; Godot's parser then builds the value.

## Deeper nesting than this is refused (hostile data must not exhaust the stack).
const MAX_DEPTH: int = 64

const _WHITESPACE: String = " \t\n\r"
const _ESCAPES: String = "\"\\/bfnrtu"
const _HEX: String = "0123456789abcdefABCDEF"
const _DIGITS: String = "0123456789"


## Returns an empty string when [param text] is exactly one JSON value (with optional
## whitespace around it), else where it goes wrong.
static func syntax_error(text: String) -> String:
	var end: int = _value(text, _skip_whitespace(text, 0), 0)
	if end >= 0:
		end = _skip_whitespace(text, end)
		if end == text.length():
			return ""
	return "not valid JSON"


static func _value(text: String, at: int, depth: int) -> int:
	if at >= text.length() or depth > MAX_DEPTH:
		return -1
	var c: String = text[at]
	if c == "{":
		return _object(text, at + 1, depth + 1)
	if c == "[":
		return _array(text, at + 1, depth + 1)
	if c == '"':
		return _string(text, at + 1)
	if c == "-" or _DIGITS.contains(c):
		return _number(text, at)
	for literal: String in ["true", "false", "null"]:
		if text.substr(at, literal.length()) == literal:
			return at + literal.length()
	return -1


static func _object(text: String, at: int, depth: int) -> int:
	at = _skip_whitespace(text, at)
	if _is(text, at, "}"):
		return at + 1
	while true:
		if not _is(text, at, '"'):
			return -1
		at = _skip_whitespace(text, _string(text, at + 1))
		if not _is(text, at, ":"):
			return -1
		at = _value(text, _skip_whitespace(text, at + 1), depth)
		if at < 0:
			return -1
		at = _skip_whitespace(text, at)
		if _is(text, at, "}"):
			return at + 1
		if not _is(text, at, ","):
			return -1
		at = _skip_whitespace(text, at + 1)
	return -1


static func _array(text: String, at: int, depth: int) -> int:
	at = _skip_whitespace(text, at)
	if _is(text, at, "]"):
		return at + 1
	while true:
		at = _value(text, at, depth)
		if at < 0:
			return -1
		at = _skip_whitespace(text, at)
		if _is(text, at, "]"):
			return at + 1
		if not _is(text, at, ","):
			return -1
		at = _skip_whitespace(text, at + 1)
	return -1


## [param at] is just after the opening quote; returns the index after the closing one.
static func _string(text: String, at: int) -> int:
	while at >= 0 and at < text.length():
		var c: String = text[at]
		if c == '"':
			return at + 1
		if c == "\\":
			var escape: String = text.substr(at + 1, 1)
			if escape.is_empty() or not _ESCAPES.contains(escape):
				return -1
			if escape == "u":
				for offset: int in range(2, 6):
					if at + offset >= text.length() or not _HEX.contains(text[at + offset]):
						return -1
				at += 6
			else:
				at += 2
		elif text.unicode_at(at) < 0x20:
			return -1
		else:
			at += 1
	return -1


static func _number(text: String, at: int) -> int:
	if _is(text, at, "-"):
		at += 1
	if _is(text, at, "0"):
		at += 1
	else:
		var start: int = at
		at = _skip_digits(text, at)
		if at == start:
			return -1
	if _is(text, at, "."):
		var fraction: int = at + 1
		at = _skip_digits(text, fraction)
		if at == fraction:
			return -1
	if _is(text, at, "e") or _is(text, at, "E"):
		at += 1
		if _is(text, at, "+") or _is(text, at, "-"):
			at += 1
		var exponent: int = at
		at = _skip_digits(text, exponent)
		if at == exponent:
			return -1
	return at


static func _skip_digits(text: String, at: int) -> int:
	while at < text.length() and _DIGITS.contains(text[at]):
		at += 1
	return at


static func _skip_whitespace(text: String, at: int) -> int:
	while at >= 0 and at < text.length() and _WHITESPACE.contains(text[at]):
		at += 1
	return at


static func _is(text: String, at: int, c: String) -> bool:
	return at >= 0 and at < text.length() and text[at] == c

extends RefCounted
## Checks Neuro's action data against the JSON schema the game registered.
##
## Checks the keywords the specification says Neuro handles well -- [code]type enum
## const properties required items minItems maxItems minimum maximum exclusiveMinimum
## exclusiveMaximum minLength maxLength pattern[/code] -- and also
## [code]additionalProperties[/code] and [code]uniqueItems[/code], which the
## specification says Neuro handles badly (or may not honour): the game gets data that
## follows them, but Neuro may not, so such actions see more refusals.  [code]format[/code]
## and the other keywords are not checked; [method badly_handled_keywords] lists the ones
## the registration warns about ([code]anyOf[/code], [code]oneOf[/code],
## [code]$ref[/code] ... pass unchecked).  Godot's JSON parser reads every number as a
## float, so [method coerce] turns the values a schema declares [code]integer[/code]
## back into ints before the game sees them.

## The keywords the specification says Neuro does not handle well (uniqueItems: not
## known), warned about at registration.
const BADLY_HANDLED: PackedStringArray = [
	"$anchor", "$comment", "$defs", "$dynamicAnchor", "$dynamicRef", "$id", "$ref",
	"$schema", "$vocabulary", "additionalProperties", "allOf", "anyOf", "contentEncoding",
	"contentMediaType", "contentSchema", "dependentRequired", "dependentSchemas",
	"deprecated", "description", "else", "if", "maxProperties", "minProperties",
	"multipleOf", "not", "oneOf", "patternProperties", "readOnly", "then", "title",
	"unevaluatedItems", "unevaluatedProperties", "writeOnly", "uniqueItems"
]

const _NUMBER_KEYWORDS: PackedStringArray = [
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"
]
const _SUBSCHEMA_KEYWORDS: PackedStringArray = [
	"items", "additionalProperties", "not", "if", "then", "else", "contains",
	"unevaluatedItems", "unevaluatedProperties", "propertyNames", "contentSchema"
]
const _SUBSCHEMA_LIST_KEYWORDS: PackedStringArray = [
	"allOf", "anyOf", "oneOf", "prefixItems", "items"
]
const _SUBSCHEMA_MAP_KEYWORDS: PackedStringArray = [
	"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"
]


## Returns where [param schema] uses a keyword of [constant BADLY_HANDLED], as paths
## such as [code]properties.cell.anyOf[/code], in the schema's order (a property named
## [code]title[/code] is not a keyword).
static func badly_handled_keywords(schema: Dictionary, path: String = "") -> PackedStringArray:
	var found: PackedStringArray = []
	for key: Variant in schema:
		var keyword: String = str(key)
		var here: String = keyword if path.is_empty() else "%s.%s" % [path, keyword]
		var value: Variant = schema[key]
		if BADLY_HANDLED.has(keyword):
			found.append(here)
		if _SUBSCHEMA_MAP_KEYWORDS.has(keyword) and value is Dictionary:
			var named: Dictionary = value
			for name: Variant in named:
				if named[name] is Dictionary:
					var sub: Dictionary = named[name]
					found.append_array(badly_handled_keywords(sub, "%s.%s" % [here, name]))
		elif _SUBSCHEMA_LIST_KEYWORDS.has(keyword) and value is Array:
			var subs: Array = value
			for index: int in subs.size():
				if subs[index] is Dictionary:
					var sub: Dictionary = subs[index]
					found.append_array(badly_handled_keywords(sub, "%s.%d" % [here, index]))
		elif _SUBSCHEMA_KEYWORDS.has(keyword) and value is Dictionary:
			var sub: Dictionary = value
			found.append_array(badly_handled_keywords(sub, here))
	return found


## Returns an empty string when [param value] matches [param schema], else one line
## saying what is wrong and where ([param path] names the value, e.g. [code]data[/code]).
static func check(value: Variant, schema: Dictionary, path: String = "data") -> String:
	if schema.has("type"):
		var problem: String = _check_type(value, schema["type"], path)
		if not problem.is_empty():
			return problem
	if schema.has("const") and not _same(value, schema["const"]):
		return "%s must be %s" % [path, JSON.stringify(schema["const"])]
	if schema.get("enum") is Array:
		var choices: Array = schema["enum"]
		if not choices.any(func(choice: Variant) -> bool: return _same(value, choice)):
			return "%s must be one of %s, not %s" % [
				path, _list(choices), JSON.stringify(value)
			]
	if value is Dictionary:
		var object: Dictionary = value
		return _check_object(object, schema, path)
	if value is Array:
		var array: Array = value
		return _check_array(array, schema, path)
	if value is String:
		var text: String = value
		return _check_string(text, schema, path)
	if _is_number(value):
		return _check_number(_number(value), schema, path)
	return ""


## Returns [param value] with every number the schema types as [code]integer[/code]
## converted to an int (Dictionaries and Arrays are converted in place).
static func coerce(value: Variant, schema: Dictionary) -> Variant:
	if value is float and _allows(schema.get("type"), "integer"):
		var number: float = value
		if number == floorf(number) and absf(number) < 9.0e15:
			return int(number)
	elif value is Dictionary and schema.get("properties") is Dictionary:
		var object: Dictionary = value
		var properties: Dictionary = schema["properties"]
		for key: Variant in object:
			if properties.get(key) is Dictionary:
				var property: Dictionary = properties[key]
				object[key] = coerce(object[key], property)
	elif value is Array and schema.get("items") is Dictionary:
		var array: Array = value
		var items: Dictionary = schema["items"]
		for index: int in array.size():
			array[index] = coerce(array[index], items)
	return value


static func _check_type(value: Variant, expected: Variant, path: String) -> String:
	var names: Array = expected if expected is Array else [expected]
	for name: Variant in names:
		if name is String:
			var type_name: String = name
			if _has_type(value, type_name):
				return ""
	var wanted: PackedStringArray = []
	for name: Variant in names:
		wanted.append(str(name))
	return "%s must be of type %s, not %s" % [path, " or ".join(wanted), _type_name(value)]


static func _check_object(object: Dictionary, schema: Dictionary, path: String) -> String:
	var properties: Dictionary = {}
	if schema.get("properties") is Dictionary:
		properties = schema["properties"]
	if schema.get("required") is Array:
		var required: Array = schema["required"]
		for key: Variant in required:
			if not object.has(key):
				return "%s is missing the required key %s" % [path, JSON.stringify(key)]
	var additional: Variant = schema.get("additionalProperties", true)
	for key: Variant in object:
		var child: String = "%s.%s" % [path, key]
		if properties.get(key) is Dictionary:
			var property: Dictionary = properties[key]
			var problem: String = check(object[key], property, child)
			if not problem.is_empty():
				return problem
		elif additional is bool and not additional:
			return "%s has the key %s, which is not allowed (allowed: %s)" % [
				path, JSON.stringify(key), _list(properties.keys())
			]
		elif additional is Dictionary:
			var additional_schema: Dictionary = additional
			var extra: String = check(object[key], additional_schema, child)
			if not extra.is_empty():
				return extra
	return ""


static func _check_array(array: Array, schema: Dictionary, path: String) -> String:
	var least: int = _limit(schema, "minItems", 0)
	var most: int = _limit(schema, "maxItems", -1)
	if array.size() < least:
		return "%s needs at least %d items, not %d" % [path, least, array.size()]
	if most >= 0 and array.size() > most:
		return "%s allows at most %d items, not %d" % [path, most, array.size()]
	if schema.get("uniqueItems") == true:
		for i: int in array.size():
			for j: int in range(i + 1, array.size()):
				if _same(array[i], array[j]):
					return "%s must not repeat %s" % [path, JSON.stringify(array[i])]
	if schema.get("items") is Dictionary:
		var items: Dictionary = schema["items"]
		for index: int in array.size():
			var problem: String = check(array[index], items, "%s[%d]" % [path, index])
			if not problem.is_empty():
				return problem
	return ""


static func _check_string(text: String, schema: Dictionary, path: String) -> String:
	var least: int = _limit(schema, "minLength", 0)
	var most: int = _limit(schema, "maxLength", -1)
	if text.length() < least:
		return "%s needs at least %d characters" % [path, least]
	if most >= 0 and text.length() > most:
		return "%s allows at most %d characters" % [path, most]
	if schema.get("pattern") is String:
		var source: String = schema["pattern"]
		var pattern: RegEx = RegEx.create_from_string(source)
		if pattern.is_valid() and pattern.search(text) == null:
			return "%s must match the pattern %s" % [path, JSON.stringify(schema["pattern"])]
	return ""


static func _check_number(number: float, schema: Dictionary, path: String) -> String:
	for keyword: String in _NUMBER_KEYWORDS:
		var bound: Variant = schema.get(keyword)
		if not _is_number(bound):
			continue
		var limit: float = _number(bound)
		var broken: bool = (
			(keyword == "minimum" and number < limit)
			or (keyword == "maximum" and number > limit)
			or (keyword == "exclusiveMinimum" and number <= limit)
			or (keyword == "exclusiveMaximum" and number >= limit)
		)
		if broken:
			var relation: String = {
				"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"
			}[keyword]
			return "%s must be %s %s, not %s" % [
				path, relation, JSON.stringify(bound), JSON.stringify(number)
			]
	return ""


static func _has_type(value: Variant, name: String) -> bool:
	match name:
		"object":
			return value is Dictionary
		"array":
			return value is Array
		"string":
			return value is String
		"boolean":
			return value is bool
		"null":
			return value == null
		"number":
			return _is_number(value)
		"integer":
			return _is_number(value) and _number(value) == floorf(_number(value))
	return true


static func _allows(type: Variant, name: String) -> bool:
	if type is Array:
		var types: Array = type
		return types.has(name)
	return type == name


static func _is_number(value: Variant) -> bool:
	if not (value is int or value is float):
		return false
	var number: float = value
	return not is_nan(number) and not is_inf(number)


static func _number(value: Variant) -> float:
	var number: float = value
	return number


## Returns the integer keyword [param keyword] of [param schema], or [param default].
static func _limit(schema: Dictionary, keyword: String, default: int) -> int:
	var bound: Variant = schema.get(keyword)
	return int(_number(bound)) if _is_number(bound) else default


static func _same(a: Variant, b: Variant) -> bool:
	if _is_number(a) and _is_number(b):
		return _number(a) == _number(b)
	if a is Array and b is Array:
		var left: Array = a
		var right: Array = b
		if left.size() != right.size():
			return false
		for index: int in left.size():
			if not _same(left[index], right[index]):
				return false
		return true
	if a is Dictionary and b is Dictionary:
		var left_object: Dictionary = a
		var right_object: Dictionary = b
		if left_object.size() != right_object.size():
			return false
		for key: Variant in left_object:
			if not right_object.has(key) or not _same(left_object[key], right_object[key]):
				return false
		return true
	return typeof(a) == typeof(b) and a == b


static func _type_name(value: Variant) -> String:
	if value == null:
		return "null"
	if value is Dictionary:
		return "object"
	if value is Array:
		return "array"
	if value is String:
		return "string"
	if value is bool:
		return "boolean"
	if _is_number(value):
		return "integer" if _number(value) == floorf(_number(value)) else "number"
	return type_string(typeof(value))


static func _list(values: Array) -> String:
	var texts: PackedStringArray = []
	for value: Variant in values:
		texts.append(JSON.stringify(value))
	return ", ".join(texts)

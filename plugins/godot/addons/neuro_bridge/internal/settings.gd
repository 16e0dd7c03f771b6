extends RefCounted
## The project settings the addon reads, each with its default.
##
## Every setting lives under [code]neuro_bridge/[/code].  The runtime reads them with
## [method get_value], so a project works with the defaults without ever declaring them;
## the editor plugin declares them so that they are listed and documented in the editor.

const URL: String = "neuro_bridge/connection/url"
const CONNECT_ON_START: String = "neuro_bridge/connection/connect_on_start"
const RECONNECT_SECONDS: String = "neuro_bridge/connection/reconnect_seconds"
const GAME_NAME: String = "neuro_bridge/game/name"
const SIDECAR_PYTHON: String = "neuro_bridge/sidecar/python"
const SIDECAR_STRICT: String = "neuro_bridge/sidecar/strict"
const SIDECAR_IN_EXPORTS: String = "neuro_bridge/sidecar/in_exported_builds"
const ANSWER_BETWEEN_FRAMES: String = "neuro_bridge/timing/answer_between_frames"
const FORCE_RESEND_SECONDS: String = "neuro_bridge/forces/resend_after_seconds"

## The environment variable that overrides [constant URL], as in every Neuro SDK.
const URL_ENVIRONMENT_VARIABLE: String = "NEURO_SDK_WS_URL"
const DEFAULT_URL: String = "ws://localhost:8000"
## On the web, the page's query parameter that overrides [constant URL].
const URL_QUERY_PARAMETER: String = "neuro_url"

const _DEFAULTS: Dictionary = {
	URL: DEFAULT_URL,
	CONNECT_ON_START: true,
	RECONNECT_SECONDS: 3.0,
	GAME_NAME: "",
	SIDECAR_PYTHON: "",
	SIDECAR_STRICT: false,
	SIDECAR_IN_EXPORTS: false,
	ANSWER_BETWEEN_FRAMES: true,
	FORCE_RESEND_SECONDS: 30.0,
}

const _HINTS: Dictionary = {
	URL: "Neuro's websocket URL; the NEURO_SDK_WS_URL environment variable wins over it.",
	CONNECT_ON_START: "Connect as soon as the game starts.",
	RECONNECT_SECONDS: "Seconds between connection attempts after a failure or a disconnect.",
	GAME_NAME: "The game's name as Neuro sees it (empty: application/config/name).",
	SIDECAR_PYTHON:
	(
		"A Python with neuro-bridge installed (e.g. python3): the addon then starts the "
		+ "validating proxy as its sidecar and connects through it. Empty: connect directly."
	),
	SIDECAR_STRICT: "The sidecar refuses the game's messages that break a rule (--strict).",
	SIDECAR_IN_EXPORTS: (
		"Start the sidecar in exported builds too (the player's machine needs that "
		+ "Python). Never on the web."
	),
	ANSWER_BETWEEN_FRAMES: (
		"With a frame rate cap (max_fps), keep the cap in the addon and answer Neuro "
		+ "while waiting for the next frame instead of at its start."
	),
	FORCE_RESEND_SECONDS: (
		"Seconds Neuro has to act on a force before it is sent again; after as long "
		+ "again it is given up and the next force goes out. 0: never."
	),
}


## Returns the setting [param name], or its default when the project does not set it.
static func get_value(name: String) -> Variant:
	return ProjectSettings.get_setting(name, _DEFAULTS[name])


## Returns the URL to connect to: [constant URL_ENVIRONMENT_VARIABLE] if set (on the
## web: the page's [code]?neuro_url=...[/code] query parameter), else the project setting.
static func url() -> String:
	var from_environment: String = OS.get_environment(URL_ENVIRONMENT_VARIABLE)
	if OS.has_feature("web"):
		var code: String = (
			"new URLSearchParams(window.location.search).get(%s) || ''"
			% JSON.stringify(URL_QUERY_PARAMETER)
		)
		from_environment = str(JavaScriptBridge.eval(code, true))
	if not from_environment.is_empty():
		return from_environment
	return str(get_value(URL))


## Returns the game's name: the project setting, else the project's own name.
static func game_name() -> String:
	var name: String = str(get_value(GAME_NAME))
	if name.is_empty():
		name = str(ProjectSettings.get_setting("application/config/name", ""))
	return name


## Declares every setting with its default and hint (for the editor plugin).
static func declare_all() -> void:
	for name: String in _DEFAULTS:
		var default: Variant = _DEFAULTS[name]
		if not ProjectSettings.has_setting(name):
			ProjectSettings.set_setting(name, default)
		ProjectSettings.set_initial_value(name, default)
		ProjectSettings.set_as_basic(name, true)
		var info: Dictionary = {
			"name": name,
			"type": typeof(default),
			"hint": PROPERTY_HINT_NONE,
			"hint_string": _HINTS[name],
		}
		ProjectSettings.add_property_info(info)

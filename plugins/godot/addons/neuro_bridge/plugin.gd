@tool
extends EditorPlugin
## Adds the [code]NeuroBridge[/code] autoload when the plugin is enabled and removes it
## when the plugin is disabled.
##
## Only the enable/disable hooks touch [code]project.godot[/code]: the editor does not
## rewrite it on every start and close.  The project settings the runtime reads are
## declared here so that they show up (with their defaults) under
## [i]Project Settings > Neuro Bridge[/i]; a project that never opens the editor gets
## the same defaults from the runtime.

const AUTOLOAD_NAME: String = "NeuroBridge"
const AUTOLOAD_PATH: String = "res://addons/neuro_bridge/neuro_bridge.gd"
const Settings = preload("res://addons/neuro_bridge/internal/settings.gd")


func _enable_plugin() -> void:
	add_autoload_singleton(AUTOLOAD_NAME, AUTOLOAD_PATH)
	Settings.declare_all()


func _disable_plugin() -> void:
	remove_autoload_singleton(AUTOLOAD_NAME)

"""Provisioning of the real game engines the engine tests run on."""

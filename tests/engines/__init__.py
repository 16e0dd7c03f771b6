"""Tests of the engine integrations (real engines, headless)."""

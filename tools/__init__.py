"""Developer tools of neuro-bridge (not installed with the package)."""

"""Task pipelines: labeled tasks (and, later, generated and mixed streams)."""

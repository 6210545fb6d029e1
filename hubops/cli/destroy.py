"""Tasks: (being written)."""

TASKS: list = []

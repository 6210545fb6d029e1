"""Flows: one module per verb (apply, destroy, drift, restore, plan review, changes) on one run
frame. They may import facts, adapters and bootstrap; never the CLI."""

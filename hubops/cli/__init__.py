"""The task edge: invoke tasks that call the library and turn its exceptions into `Exit`.

Each module exposes `TASKS`, which `tasks.py` assembles. Modules here import only invoke at import
time, so that `invoke --list` stays fast.
"""

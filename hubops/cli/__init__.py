"""The task edge: invoke tasks that call the library and turn its exceptions into `Exit`.

Each module exposes `TASKS`, which `tasks.py` assembles. Modules here import only invoke and
hubops' light modules at import time (never boto3, dnspython or the HCL parser), so that
`invoke --list` stays fast.
"""

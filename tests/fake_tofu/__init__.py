"""The project's fake `tofu` executable (fake_tofu.py) and its launcher (__main__.py)."""

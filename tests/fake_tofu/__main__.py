"""Launcher: `python -m tests.fake_tofu ARGS` runs the fake as `tofu ARGS`."""

import sys

from tests.fake_tofu.fake_tofu import main

sys.exit(main())

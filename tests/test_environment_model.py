"""The environment model reads its files through the one HCL reader, not through the validator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def test_loading_an_environment_reads_hcl_without_importing_the_validator(tmp_path):
    code = (
        "import json, sys; from pathlib import Path; "
        "from hubops.facts.environments import load_environment; "
        "env = load_environment(Path(sys.argv[1]), 'cae'); "
        "print(json.dumps([env.name, sorted(m for m in sys.modules if m.startswith('hubops'))]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(PROJECT)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )

    name, modules = json.loads(done.stdout)
    assert name == "cae"
    assert "hubops.adapters.hcl" in modules
    assert [m for m in modules if m.startswith("hubops.tfcheck")] == []

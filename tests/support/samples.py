"""OpenTofu's own recorded outputs, read at run time from ../shared/fixtures/tofu/ (third-party
data, MPL-2.0: never copied into the project). Where that folder is absent (a lone clone), the
tests that read it are skipped with the reason; CI and the development machines have it."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "tofu"


def sample_text(name: str) -> str:
    """The sample's text; skips the calling test, saying where it was looked for, if absent."""
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"OpenTofu's recorded sample {name} is not at {SAMPLES} (../shared is absent)")
    return path.read_text()

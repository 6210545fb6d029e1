"""hubops's settings have one home: declared once (hubops/facts/settings.py), read in one place
(hubops/adapters/settings.py), and the README's settings table names exactly those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hubops.adapters.settings import number, raw
from hubops.facts.errors import SettingError
from hubops.facts.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"\bHUBOPS_[A-Z_]+\b")


def test_the_readme_settings_table_names_every_setting_and_no_other():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Settings") : readme.index("## Repository layout")]
    rows = [line for line in table.splitlines() if line.startswith("| `HUBOPS_")]

    named = {name for row in rows for name in NAME.findall(row.split(" | ")[0])}

    assert named == set(SETTINGS)


def test_every_setting_the_package_names_is_declared_and_read_in_one_place():
    declared = ROOT / "hubops/facts/settings.py"
    reader = ROOT / "hubops/adapters/settings.py"
    for path in sorted((ROOT / "hubops").rglob("*.py")):
        text = path.read_text()
        assert set(NAME.findall(text)) <= set(SETTINGS), path
        if path not in (declared, reader):
            assert not re.search(r"environ(\.get)?[\[(]\s*[\"']HUBOPS_", text), path


def test_a_setting_is_read_without_its_blanks_and_an_undeclared_one_is_refused(monkeypatch):
    monkeypatch.setenv("HUBOPS_DNS_TIMEOUT", " 2.5 ")

    assert raw("HUBOPS_DNS_TIMEOUT") == "2.5"
    with pytest.raises(KeyError, match="HUBOPS_NOT_A_SETTING is not a setting declared"):
        raw("HUBOPS_NOT_A_SETTING")


NUMBERS = sorted(name for name, setting in SETTINGS.items() if setting.number is not None)


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("given", ["nan", "inf", "-1", "soon", "1e400"])
def test_every_numeric_setting_refuses_a_malformed_value_in_one_wording(monkeypatch, name, given):
    setting = SETTINGS[name]
    monkeypatch.setenv(name, given)

    with pytest.raises(SettingError) as raised:
        number(name)

    assert str(raised.value) == (
        f"{name}={given!r} is malformed: give {setting.number.wanted}, or unset it to use the "
        f"default ({setting.default})."
    )


@pytest.mark.parametrize("name", NUMBERS)
def test_a_numeric_settings_default_is_the_one_the_readme_says(monkeypatch, name):
    monkeypatch.delenv(name, raising=False)

    assert f"{number(name):g}" == SETTINGS[name].default


def test_a_port_above_65535_and_a_fraction_of_a_try_are_refused(monkeypatch):
    monkeypatch.setenv("HUBOPS_DNS_AUTHORITATIVE_PORT", "65536")
    monkeypatch.setenv("HUBOPS_DNS_ATTEMPTS", "2.5")

    for name in ("HUBOPS_DNS_AUTHORITATIVE_PORT", "HUBOPS_DNS_ATTEMPTS"):
        with pytest.raises(SettingError, match=f"^{name}="):
            number(name)
    monkeypatch.setenv("HUBOPS_DNS_AUTHORITATIVE_PORT", "5353")
    assert number("HUBOPS_DNS_AUTHORITATIVE_PORT") == 5353

"""Reading hubops's settings from the environment: the one place a `HUBOPS_*` variable is read
(each is declared in `hubops.facts.settings.SETTINGS`)."""

from __future__ import annotations

import os

from hubops.facts.errors import SettingError
from hubops.facts.settings import SETTINGS


def raw(name: str) -> str:
    """The setting's value as given, without surrounding blanks ("" when unset)."""
    if name not in SETTINGS:
        raise KeyError(f"{name} is not a setting declared in hubops.facts.settings.SETTINGS")
    return os.environ.get(name, "").strip()


def number(name: str) -> float:
    """A numeric setting's value (its default when unset); SettingError when it is malformed."""
    given, setting = raw(name), SETTINGS[name]
    if not given:
        return setting.number.default
    value = setting.number.parse(given)
    if value is None:
        raise SettingError(setting.refusal(given))
    return value

"""Stored JSON into typed objects: the one place a document read back becomes a dataclass.

`from_json(cls, data)` builds the dataclass `cls` from a JSON object and checks every field
against its annotation: str, int, float, bool, None, unions of these, `list[X]`,
`tuple[X, ...]`, `dict[str, X]`, enums (stored as their values) and nested dataclasses. A value
of the wrong type raises `ShapeError` naming where it is (`before.load_balancers[0].hostname`),
so a damaged document is refused where it is read, not by whoever uses a field of it later. A
missing field takes its default; one without a default is an error. Keys the class does not
declare are ignored (the caller may keep them).

The other way needs nothing of its own: `dataclasses.asdict` gives JSON-ready values.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")

_UNIONS = (typing.Union, types.UnionType)
_WORDS = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
    dict: "an object",
    list: "a list",
    tuple: "a list",
}


class ShapeError(ValueError):
    """A JSON document does not have the shape its type declares; says where, in one phrase."""


def from_json(cls: type[T], data: Any) -> T:
    """An instance of the dataclass `cls` from `data`; ShapeError when the shapes differ."""
    return _value(cls, data, "")


def checked(hint: Any, value: Any, path: str) -> Any:
    """`value` read as `hint` (the type of the field at `path`); ShapeError when it is not."""
    return _value(hint, value, path)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _value(hint: Any, value: Any, path: str) -> Any:
    options = get_args(hint) if get_origin(hint) in _UNIONS else (hint,)
    for option in options:
        if _fits(option, value):
            return _inner(option, value, path)
    wanted = " or ".join(dict.fromkeys(_word(option) for option in options))
    if not path:
        raise ShapeError(f"is not {wanted} (it holds {type(value).__name__})")
    raise ShapeError(f"has {path}={json.dumps(value)}, where {wanted} belongs")


def _kind(hint: Any) -> Any:
    return get_origin(hint) or hint


def _word(hint: Any) -> str:
    kind = _kind(hint)
    if _is_enum(kind):
        return "one of " + ", ".join(json.dumps(member.value) for member in kind)
    return "an object" if dataclasses.is_dataclass(kind) else _WORDS.get(kind, str(kind))


def _fits(hint: Any, value: Any) -> bool:
    """Whether `value` is of the outer kind `hint` asks for (its content is checked after)."""
    kind = _kind(hint)
    if _is_enum(kind):
        return any(value == member.value for member in kind)
    if dataclasses.is_dataclass(kind) or kind is dict:
        return isinstance(value, dict)
    if kind in (list, tuple):
        return isinstance(value, list | tuple)
    if kind in (int, float):
        numbers = (int, float) if kind is float else (int,)
        return isinstance(value, numbers) and not isinstance(value, bool)  # true is no number
    if kind is type(None):
        return value is None
    return isinstance(value, kind)


def _inner(hint: Any, value: Any, path: str) -> Any:
    kind, args = _kind(hint), get_args(hint)
    if dataclasses.is_dataclass(kind):
        return _dataclass(kind, value, path)
    if kind in (list, tuple):  # a tuple is read as tuple[X, ...]
        items = [_value(args[0], item, f"{path}[{i}]") for i, item in enumerate(value)]
        return items if kind is list else tuple(items)
    if kind is dict:
        return {key: _value(args[1], item, f"{path}.{key}") for key, item in value.items()}
    if kind is float:
        return float(value)
    if _is_enum(kind):
        return kind(value)
    return value


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


def _dataclass(cls: type, data: dict, path: str) -> Any:
    hints = _hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        where = f"{path}.{field.name}" if path else field.name
        if field.name in data:
            values[field.name] = _value(hints[field.name], data[field.name], where)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ShapeError(f"has no {where}, which it must have")
    return cls(**values)

"""Fast wire-JSON decoders generated from the models' ``attrs.fields()``.

Why generated: every session of every page and every live event is decoded,
and cattrs' generic hooks dispatch per field (a function call and a type
lookup each).  A decoder written out as straight-line code, with ``type(v)
is str`` fast paths and the strict checks only on the slow path, is about
twice as fast.  Why *generated* rather than hand-written: a hand-written
decoder silently ignores a field added to the model later.  This one is
built from the model's fields at import time, so a new field is decoded as
soon as it exists, and a field whose type it cannot decode fails the import
(:class:`TypeError` naming the field), never a silent ``None``.

The rules are the converter's (see ``_convert``), field by field:

* required fields raise ``KeyError`` when missing; others take their default;
* ``null`` is accepted only where the type includes ``None``;
* ``str``/``int``/``bool`` are strict (no ``True`` for an int, no ``"3"``);
  an ``int`` field takes an integral float; a ``float`` field keeps ints as
  ints and rejects ``NaN`` and ``Infinity``, which are not JSON numbers;
* ``SomeEnum | str`` keeps an unknown value as the plain string;
* ``Mapping[str, Any]`` must be a JSON object (copied);
* ``datetime`` goes through ``parse_datetime`` (aware, ``Z`` tolerated);
* wire keys the model does not know go to ``extra`` (``from`` is ``from_``).

Violations raise ``KeyError``, ``TypeError`` or ``ValueError``, which
``_convert.structure`` turns into ``APIResponseValidationError``.
"""

from __future__ import annotations

import enum
import functools
import math
import sys
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Union

import attrs

Decoder = Callable[[object], Any]
Check = Callable[[object], Any]
_MISSING = object()
#: ``datetime.fromisoformat`` reads every ISO 8601 string servers send from 3.11 on.
NATIVE_ISO = sys.version_info >= (3, 11)


def wire_name(name: str) -> str:
    """``from_`` -> ``from``: Python keywords get a trailing underscore in the models."""
    return name[:-1] if name.endswith("_") else name


# -- the strict checks (the slow path of each field) ------------------------------


def strict_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def strict_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def strict_float(value: object) -> float:
    """A JSON number; ints stay ints (186 stays 186); NaN and +-Infinity are rejected.

    Python's ``json`` accepts the non-standard ``NaN``/``Infinity`` tokens; a
    model carrying one would make every later JSON export invalid, so such a
    value is invalid for the field, like any other wrong value.
    """
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise ValueError(f"expected a finite number, got {value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"expected a number, got {type(value).__name__}")


def strict_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def json_object(value: object) -> dict[str, Any]:
    if type(value) is dict or isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"expected a JSON object, got {type(value).__name__}")


# -- per-type code: an expression of ``v`` evaluated on the value -------------------

#: Plain types: (fast path test, strict check).  ``{v}`` is the value's name.
_SIMPLE: dict[Any, tuple[str, Check]] = {
    str: ("type({v}) is str", strict_str),
    int: ("type({v}) is int", strict_int),
    float: ("type({v}) is float and _isfinite({v})", strict_float),
    bool: ("type({v}) is bool", strict_bool),
}


def _optional_arg(tp: Any) -> Any:
    """``X`` for ``X | None``, else ``None``."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = typing.get_args(tp)
        if len(args) == 2 and type(None) in args:
            return next(a for a in args if a is not type(None))
    return None


def enum_of(tp: Any) -> type[enum.Enum] | None:
    """``SomeEnum`` for ``SomeEnum | str``, else ``None``."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is str and isinstance(args[0], type):
            return args[0] if issubclass(args[0], enum.Enum) else None
    return None


class _Source:
    """The generated function's lines and the globals they refer to."""

    def __init__(self, parse_datetime: Check) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_isfinite": math.isfinite, "_MISSING": _MISSING}
        self.parse_datetime = parse_datetime

    def name(self, prefix: str, value: Any) -> str:
        """A global name in the generated code for ``value``."""
        key = f"_{prefix}{len(self.names)}"
        self.names[key] = value
        return key

    def emit(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)

    def convert(self, tp: Any, v: str, where: str, depth: int = 1) -> None:
        """Lines turning the raw value in ``v`` into a value of type ``tp``."""
        if (inner := _optional_arg(tp)) is not None:
            self.emit(f"if {v} is not None:", depth)
            self.convert(inner, v, where, depth + 1)
        elif tp in _SIMPLE:
            fast, check = _SIMPLE[tp]
            self.emit(f"if not ({fast.format(v=v)}): {v} = {self.name('check', check)}({v})", depth)
        elif tp is datetime:
            self.datetime(v, depth)
        elif (members := enum_of(tp)) is not None:
            table = self.name("members", {m.value: m for m in members})
            text = self.name("check", strict_str)
            self.emit(f"if type({v}) is not str: {v} = {text}({v})", depth)
            self.emit(f"{v} = {table}.get({v}, {v})", depth)
        elif tp == Mapping[str, Any]:
            mapping = self.name("check", json_object)
            self.emit(f"{v} = dict({v}) if type({v}) is dict else {mapping}({v})", depth)
        else:
            raise TypeError(f"no fast decoder for {where} of type {tp!r}: teach _decoders.py")

    def datetime(self, v: str, depth: int) -> None:
        """``parse_datetime``, with its 3.11+ fast path inlined (3 per session, 1 per event).

        Same result as calling it: a string ``datetime.fromisoformat`` takes
        is used as parsed (UTC when naive); anything else, or a naive result,
        goes through ``parse_datetime`` itself.
        """
        slow = self.name("dt", self.parse_datetime)
        if not NATIVE_ISO:
            self.emit(f"{v} = {slow}({v})", depth)
            return
        iso = self.name("fromiso", datetime.fromisoformat)
        for line in (
            f"if type({v}) is str:",
            f"    try: {v} = {iso}({v})",
            f"    except ValueError: {v} = {slow}({v})",
            "    else:",
            f"        if {v}.tzinfo is None: {v} = {slow}({v})",
            f"else: {v} = {slow}({v})",
        ):
            self.emit(line, depth)

    def field(self, field: attrs.Attribute[Any], tp: Any, v: str, where: str) -> None:
        """Read the field's wire key into ``v`` (its default when allowed), then convert."""
        wire = repr(wire_name(field.name))
        if field.default is attrs.NOTHING:
            self.emit(f"{v} = obj[{wire}]")
            self.convert(tp, v, where)
        elif field.default is None and _optional_arg(tp) is not None:
            self.emit(f"{v} = obj.get({wire})")
            self.convert(tp, v, where)
        else:  # missing -> the default (a fresh one from a factory); present -> converted
            made = _factory(field)
            fresh = f"{self.name('factory', made)}()" if made else None
            default = fresh or self.name("default", field.default)
            self.emit(f"{v} = obj.get({wire}, _MISSING)")
            self.emit(f"if {v} is _MISSING: {v} = {default}")
            self.emit("else:")
            self.convert(tp, v, where, depth=2)


def _construct(src: _Source, cls: type[Any], args: list[str]) -> None:
    """Build the instance from the decoded values in ``args`` (one per field, in order).

    A frozen slotted attrs ``__init__`` sets each field through
    ``object.__setattr__``; setting the slots through their descriptors is
    ~25% cheaper, and the decoder already did all the checking ``__init__``
    would (the model has no validator, converter or post-init hook).
    """
    if getattr(cls, "__attrs_post_init__", None) is not None or not getattr(cls, "__slots__", ()):
        src.emit(f"return {src.name('cls', cls)}({', '.join(args)})")
        return
    src.emit(f"o = {src.name('new', object.__new__)}({src.name('cls', cls)})")
    for field, value in zip(attrs.fields(cls), args, strict=True):
        src.emit(f"{src.name('set', getattr(cls, field.name).__set__)}(o, {value})")
    src.emit("return o")


def _factory(field: attrs.Attribute[Any]) -> Callable[[], Any] | None:
    """The field's ``attrs.Factory`` callable, if its default is one.

    (``attrs.Factory`` is typed as a function, hence no ``isinstance``.)
    """
    factory = getattr(field.default, "factory", None)
    if not callable(factory):
        return None
    if getattr(field.default, "takes_self", False):
        raise TypeError(f"{field.name}: no fast decoder for a Factory(takes_self=True)")
    return factory  # type: ignore[no-any-return]


def make_decoder(
    cls: type[Any],
    parse_datetime: Check,
    overrides: Mapping[str, Callable[[dict[str, Any]], Any]] | None = None,
) -> Decoder:
    """A decoder ``payload -> cls`` written out from ``attrs.fields(cls)``.

    The model must be an attrs class whose fields have no validator or
    converter (the decoder does the checking) and may have an ``extra``
    mapping for unknown wire keys.  ``parse_datetime`` is the converter's
    datetime rule (passed in: one definition of it, in ``_convert``).
    ``overrides`` decode the named fields from the whole payload (a field
    whose type depends on another one, like an event's ``data``); they run
    after the fields before them were checked.
    """
    overrides = overrides or {}
    hints = typing.get_type_hints(cls)
    fields = [f for f in attrs.fields(cls) if f.name != "extra"]
    has_extra = len(fields) < len(attrs.fields(cls))
    src = _Source(parse_datetime)
    src.emit("def decode(obj):", depth=0)
    src.emit(f"if type(obj) is not dict: obj = {src.name('check', _as_dict(cls))}(obj)")
    args = []
    for index, field in enumerate(fields):
        _read_field(src, cls, field, hints[field.name], f"a{index}", overrides)
        args.append(f"a{index}")
    if has_extra:
        known = src.name("known", frozenset(wire_name(f.name) for f in fields))
        src.emit(
            f"extra = {{}} if {known}.issuperset(obj) else "
            f"{{k: x for k, x in obj.items() if k not in {known}}}"
        )
        args.append("extra")
    _construct(src, cls, args)
    decode = _compile(src, cls.__name__)
    decode.__doc__ = f"Decode wire JSON into {cls.__name__} (generated by make_decoder)."
    _RECIPES[decode] = (cls, parse_datetime, overrides)
    return decode


def _read_field(
    src: _Source,
    cls: type[Any],
    field: attrs.Attribute[Any],
    tp: Any,
    v: str,
    overrides: Mapping[str, Callable[[dict[str, Any]], Any]],
) -> None:
    where = f"{cls.__name__}.{field.name}"
    if field.validator is not None or field.converter is not None:
        raise TypeError(f"{where} has a validator or converter: no fast decoder for it")
    if field.name in overrides:
        src.emit(f"{v} = {src.name('override', overrides[field.name])}(obj)")
    else:
        src.field(field, tp, v, where)


def _compile(src: _Source, label: str) -> Decoder:
    namespace = dict(src.names)
    exec(compile("\n".join(src.lines), f"<decoder {label}>", "exec"), namespace)
    decode: Decoder = namespace["decode"]
    return decode


# -- explaining a failure: which field, and why ---------------------------------------

Recipe = tuple[type[Any], Check, Mapping[str, Callable[[dict[str, Any]], Any]]]
#: How each decoder was made, so a failure can be explained field by field.
_RECIPES: dict[Decoder, Recipe] = {}


@functools.cache
def _field_checks(decoder: Decoder) -> tuple[tuple[str, Decoder], ...]:
    """One small decoder per field, built on the first failure only (errors are rare)."""
    cls, parse_datetime, overrides = _RECIPES[decoder]
    hints = typing.get_type_hints(cls)
    checks = []
    for field in attrs.fields(cls):
        if field.name != "extra":
            src = _Source(parse_datetime)
            src.emit("def decode(obj):", depth=0)
            _read_field(src, cls, field, hints[field.name], "v", overrides)
            src.emit("return v")
            checks.append((wire_name(field.name), _compile(src, f"{cls.__name__}.{field.name}")))
    return tuple(checks)


def explain(decoder: Decoder, payload: object) -> str | None:
    """What a generated decoder rejected in ``payload``: the first bad field and why.

    Runs only after the decoder failed, so the fast path carries no
    bookkeeping for it.  ``None`` when it cannot tell (not an object, or not
    a decoder made here).
    """
    if decoder not in _RECIPES or not isinstance(payload, Mapping):
        return None
    obj = dict(payload)
    for wire, check in _field_checks(decoder):
        try:
            check(obj)
        except KeyError:
            return f"missing required field {wire!r}"
        except (TypeError, ValueError) as exc:
            return f"field {wire!r}: {exc}"
    return None


def _as_dict(cls: type[Any]) -> Check:
    def as_dict(value: object) -> dict[str, Any]:
        if isinstance(value, Mapping):
            return dict(value)
        raise TypeError(f"expected a JSON object for {cls.__name__}")

    return as_dict

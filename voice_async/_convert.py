"""The single converter between wire JSON and the models.

Conversion happens here and only here (the wire rules are written down in
``docs/wire-contract.md``).  The rules it applies:

* datetimes are ISO 8601 on the wire and *aware* ``datetime`` in Python
  (a trailing ``Z`` is UTC; a naive value is taken as UTC);
* ``from_`` in Python is ``from`` on the wire;
* a ``SomeEnum | str`` field keeps an unknown value as the plain string;
* unknown fields land in the model's ``extra`` mapping;
* types are checked strictly enough that a wrong JSON type is an error, not a
  silently stringified dict; ``NaN``/``Infinity`` are invalid numbers.

Decoding runs the functions ``_decoders.make_decoder`` generates from each
model's fields (:data:`DECODERS`): fast, and unable to miss a field added to
a model.  cattrs' own generated hooks stay registered as the reference the
tests compare them with, and cattrs does the (cold) unstructuring.

Every decoding failure surfaces as :class:`APIResponseValidationError`, so a
malformed response can never leak a ``KeyError`` or cattrs exception.
"""

from __future__ import annotations

import enum
import json
import json.scanner
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._decoders import (
    NATIVE_ISO,
    enum_of,
    explain,
    json_object,
    make_decoder,
    strict_bool,
    strict_float,
    strict_int,
    strict_str,
    wire_name,
)
from ._errors import APIResponseValidationError
from ._models import (
    AgentResponseData,
    Call,
    ErrorData,
    EventData,
    EventType,
    RuntimeConfig,
    SessionEndedData,
    SessionEvent,
    SessionPage,
    SessionStartedData,
    SessionStatusData,
    ToolCallData,
    ToolResultData,
    TranscriptData,
    VoiceSession,
    next_page_offset,
)

T = TypeVar("T")

converter = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)

_FRACTION = re.compile(r"(\.\d+)")
_NATIVE_ISO = NATIVE_ISO  # tests switch it off to check the tolerant path agrees


def parse_datetime(value: object) -> datetime:
    """ISO 8601 -> aware datetime, tolerant of ``Z`` and any fraction length.

    ``datetime.fromisoformat`` on Python 3.10 accepts neither ``Z`` nor
    fractions other than 3 or 6 digits, and servers send both.  From 3.11 on
    it accepts every such string as sent (``Z`` as UTC, like ``+00:00``), so
    that is tried first: 3x faster, and anything it rejects (whitespace, a
    lowercase ``z``) still takes the tolerant path.
    """
    if _NATIVE_ISO and type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            text = _FRACTION.sub(lambda m: (m.group(1) + "000000")[:7], text, count=1)
            parsed = datetime.fromisoformat(text)
    else:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_datetime(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return aware.isoformat().replace("+00:00", "Z")


def _hook(check: Callable[[object], T]) -> Callable[[object, object], T]:
    """A strict check of ``_decoders`` as a cattrs hook (which also gets the type)."""
    return lambda value, _: check(value)


_strict_str = _hook(strict_str)
_strict_int = _hook(strict_int)
_strict_float = _hook(strict_float)
_strict_bool = _hook(strict_bool)
_json_object = _hook(json_object)


def _is_enum_or_str(tp: Any) -> bool:
    return enum_of(tp) is not None


def _enum_or_str_hook(tp: Any) -> Callable[[object, object], object]:
    enum_cls = enum_of(tp)
    assert enum_cls is not None
    members = {m.value: m for m in enum_cls}

    def hook(value: object, _: object) -> object:
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return members.get(value, value)

    return hook


converter.register_structure_hook(str, _strict_str)
converter.register_structure_hook(int, _strict_int)
converter.register_structure_hook(float, _strict_float)
converter.register_structure_hook(bool, _strict_bool)
converter.register_structure_hook(datetime, lambda v, _: parse_datetime(v))
converter.register_unstructure_hook(datetime, format_datetime)
converter.register_structure_hook_func(lambda t: t == Mapping[str, Any], _json_object)
converter.register_structure_hook_factory(_is_enum_or_str, _enum_or_str_hook)
converter.register_unstructure_hook_func(
    _is_enum_or_str, lambda v: v.value if isinstance(v, enum.Enum) else v
)


def _register_model(cls: type[Any]) -> None:
    """Structure/unstructure hooks honouring renames and the ``extra`` bag."""
    fields = attrs.fields(cls)
    renames = {f.name: override(rename=wire_name(f.name)) for f in fields if f.name.endswith("_")}
    has_extra = any(f.name == "extra" for f in fields)
    if has_extra:
        renames["extra"] = override(omit=True)
    known = frozenset(wire_name(f.name) for f in fields if f.name != "extra")
    structure = make_dict_structure_fn(cls, converter, **renames)  # type: ignore[arg-type]
    unstructure = make_dict_unstructure_fn(cls, converter, **renames)  # type: ignore[arg-type]

    def structure_hook(data: object, _: object) -> Any:
        # ``type(...) is dict`` first: the ABC check is slow and events are hot.
        if type(data) is not dict and not isinstance(data, Mapping):
            raise TypeError(f"expected a JSON object for {cls.__name__}")
        obj = structure(data, cls)
        if has_extra and not known.issuperset(data):
            extra = {k: v for k, v in data.items() if k not in known}
            obj = attrs.evolve(obj, extra=extra)
        return obj

    def unstructure_hook(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = unstructure(obj)
        if has_extra and obj.extra:
            out = {**obj.extra, **out}
        return out

    fast = make_decoder(cls, parse_datetime)
    converter.register_structure_hook(cls, lambda data, _: fast(data))
    converter.register_unstructure_hook(cls, unstructure_hook)
    _STRUCTURE_HOOKS[cls] = structure_hook
    DECODERS[cls] = fast


#: cattrs' generated hooks: the reference the fast decoders are tested against.
_STRUCTURE_HOOKS: dict[type[Any], Callable[[object, object], Any]] = {}
#: The decoders generated from each model's fields (``_decoders``): what runs.
DECODERS: dict[type[Any], Callable[[object], Any]] = {}


EVENT_DATA: dict[str, type[Any]] = {
    EventType.SESSION_STARTED.value: SessionStartedData,
    EventType.SESSION_STATUS.value: SessionStatusData,
    EventType.TRANSCRIPT_PARTIAL.value: TranscriptData,
    EventType.TRANSCRIPT_FINAL.value: TranscriptData,
    EventType.AGENT_RESPONSE.value: AgentResponseData,
    EventType.TOOL_CALL.value: ToolCallData,
    EventType.TOOL_RESULT.value: ToolResultData,
    EventType.SESSION_ENDED.value: SessionEndedData,
    EventType.ERROR.value: ErrorData,
}

for _cls in (Call, VoiceSession, RuntimeConfig, *dict.fromkeys(EVENT_DATA.values())):
    _register_model(_cls)

_EVENT_TYPES = {m.value: m for m in EventType}
_EVENT_DATA_DECODERS = {type_: DECODERS[cls] for type_, cls in EVENT_DATA.items()}


def _event_data(event: dict[str, Any]) -> EventData:
    """An event's ``data``: typed for the contract's types, the raw object for others.

    Called by the generated ``SessionEvent`` decoder once ``type`` was checked.
    """
    raw = event.get("data")
    decode = _EVENT_DATA_DECODERS.get(event["type"])
    if decode is None:
        return {} if raw is None else json_object(raw)
    return decode({} if raw is None else raw)  # type: ignore[no-any-return]


DECODERS[SessionEvent] = make_decoder(SessionEvent, parse_datetime, {"data": _event_data})
_structure_event = DECODERS[SessionEvent]


#: The generated ``VoiceSession`` decoder, called directly for each item of a page.
_structure_session = DECODERS[VoiceSession]


def _unstructure_event(event: SessionEvent) -> dict[str, Any]:
    data = event.data
    return {
        "type": str(event.type),
        "session_id": event.session_id,
        "seq": event.seq,
        "ts": format_datetime(event.ts),
        "data": dict(data) if isinstance(data, Mapping) else converter.unstructure(data),
    }


converter.register_structure_hook(SessionEvent, lambda data, _: _structure_event(data))
converter.register_unstructure_hook(SessionEvent, _unstructure_event)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parser(decoder: json.JSONDecoder) -> Callable[[bytes | str], Any]:
    """``decoder.decode`` of a UTF-8 body or a text, through the C scanner directly.

    ``json.loads`` goes through three Python functions (``loads``, ``decode``,
    ``raw_decode``) and two whitespace regex matches before the C scanner
    runs, and sniffs the encoding of bytes: ~0.6 us of a 1.4 us call for a
    ``Call`` or an event frame, paid once per call and per live event.
    Calling the scanner itself gives the same value for every document that
    starts with its value and has nothing after it (what servers send);
    anything else (leading or trailing whitespace, invalid JSON) goes through
    ``decoder.decode``, which accepts or raises exactly as ``json.loads`` does.
    """
    scan = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]  # typeshed: odd stub
    decode = decoder.decode

    def parse(data: bytes | str) -> Any:
        text = data if isinstance(data, str) else data.decode("utf-8")
        try:
            value, end = scan(text, 0)
        except StopIteration:
            return decode(text)
        return value if end == len(text) else decode(text)

    return parse


#: Server bodies and frames: ``json.loads`` of UTF-8 (RFC 8259), without
#: encoding sniffing.  Lenient about ``NaN``/``Infinity`` on purpose: a typed
#: field refuses them with a message naming the field, which a parse error
#: could not.  Raises ``ValueError`` (or ``RecursionError`` for deep nesting).
json_loads = _parser(json.JSONDecoder())

#: ``json_loads``, also rejecting ``NaN`` and ``Infinity`` anywhere (an
#: untyped ``metadata`` included): Python's ``json`` accepts those tokens
#: although JSON has no such numbers, and a value carrying one would make
#: every later JSON export of it invalid.  Same speed (the hook runs only
#: when such a token is met).
loads = _parser(json.JSONDecoder(parse_constant=_reject_constant))


def _excerpt(payload: object) -> str:
    return repr(payload)[:200]


def structure(payload: object, cls: type[T]) -> T:
    """Decode ``payload`` into ``cls``, raising only the SDK's error type."""
    decode = DECODERS.get(cls)  # skips cattrs' dispatch for the models
    try:
        return decode(payload) if decode is not None else converter.structure(payload, cls)
    except Exception as exc:
        raise APIResponseValidationError(
            f"response did not match {cls.__name__}: {_why(decode, payload, exc)}"[:300],
            body_excerpt=_excerpt(payload),
        ) from exc


def _why(decode: Callable[[object], Any] | None, payload: object, exc: Exception) -> str:
    """The first bad field and why, when the decoder can tell; else the exception."""
    found = None if decode is None else explain(decode, payload)
    return found or f"{type(exc).__name__}: {exc}"


def unstructure(model: Any) -> Any:
    """A model back to its wire JSON shape (``from``, ISO datetimes, extras)."""
    return converter.unstructure(model)


_LIST_KEYS = ("data", "sessions", "items")


def _optional(payload: Mapping[str, Any], key: str, kind: type[Any], default: Any) -> Any:
    value = payload.get(key)
    if value is None:
        return default
    if kind is int:
        return strict_int(value)
    return strict_bool(value)


@attrs.frozen
class RawPage:
    """A list response with its envelope checked and its sessions not decoded yet.

    Decoding 100 sessions costs far more than reading the envelope, so the
    paginator plans (and sends) the next request from this, then decodes.
    """

    items: list[Any]
    limit: int
    offset: int
    total: int | None = None
    has_more: bool | None = None

    @property
    def next_offset(self) -> int | None:
        """Same rule as :attr:`SessionPage.next_offset`."""
        return next_page_offset(len(self.items), self.limit, self.offset, self.total, self.has_more)


def _page_error(payload: object, exc: Exception) -> APIResponseValidationError:
    return APIResponseValidationError(
        f"response is not a page of sessions: {type(exc).__name__}: {exc}"[:300],
        body_excerpt=_excerpt(payload),
    )


def split_page(payload: object, *, limit: int, offset: int) -> RawPage:
    """The envelope of a page in any shape the contract tolerates.

    Accepts a bare array, or an object with the list under ``data``,
    ``sessions`` or ``items``; ``total``/``has_more`` may be missing, and
    ``limit``/``offset`` default to what was requested.
    """
    try:
        meta: Mapping[str, Any]
        if isinstance(payload, list):
            items, meta = payload, {}
        elif isinstance(payload, Mapping):
            key = next((k for k in _LIST_KEYS if isinstance(payload.get(k), list)), None)
            if key is None:
                raise TypeError("no list under 'data', 'sessions' or 'items'")
            items, meta = payload[key], payload
        else:
            raise TypeError(f"expected an object or array, got {type(payload).__name__}")
        return RawPage(
            items=items,
            limit=_optional(meta, "limit", int, limit),
            offset=_optional(meta, "offset", int, offset),
            total=_optional(meta, "total", int, None),
            has_more=_optional(meta, "has_more", bool, None),
        )
    except Exception as exc:
        raise _page_error(payload, exc) from exc


def _first_bad(items: list[Any]) -> int:
    """Index of the first item that does not decode (run on the error path only)."""
    for index, item in enumerate(items):
        try:
            _structure_session(item)
        except Exception:
            return index
    return len(items)


def decode_page(raw: RawPage) -> SessionPage:
    """The typed page: every session of ``raw`` decoded (strictly)."""
    try:
        sessions = tuple(map(_structure_session, raw.items))
    except Exception as exc:
        index = _first_bad(raw.items)
        item = raw.items[index] if index < len(raw.items) else raw.items
        reason = f"item {index}: {_why(_structure_session, item, exc)}"
        raise APIResponseValidationError(
            f"response is not a page of sessions: {reason}"[:300], body_excerpt=_excerpt(item)
        ) from exc
    return SessionPage(sessions, raw.limit, raw.offset, raw.total, raw.has_more)


def structure_page(payload: object, *, limit: int, offset: int) -> SessionPage:
    """A page from the canonical envelope or any shape the contract tolerates."""
    return decode_page(split_page(payload, limit=limit, offset=offset))

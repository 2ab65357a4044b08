"""R5: property tests of the decoders and error builders (hypothesis).

* Any JSON value at all, and any valid payload with one field broken, decodes
  into a model or raises :class:`APIResponseValidationError` -- never a
  ``KeyError``, ``TypeError`` or cattrs exception.
* Every model survives ``unstructure -> JSON text -> structure`` unchanged,
  unknown enum values and ``extra`` fields included.
* The error builders accept any bytes and any headers.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from voice_async import (
    APIResponseValidationError,
    APIStatusError,
    Call,
    Direction,
    EventType,
    RuntimeConfig,
    SessionEvent,
    SessionPage,
    SessionStatus,
    VoiceSession,
)
from voice_async._convert import EVENT_DATA, structure, structure_page, unstructure
from voice_async._events_core import decode_event
from voice_async._response import status_error
from voice_async._retry import parse_retry_after

from . import _payloads as p

MODELS: list[type[Any]] = [Call, VoiceSession, RuntimeConfig, SessionEvent]
MODELS += list(dict.fromkeys(EVENT_DATA.values()))

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)
json_objects = st.dictionaries(st.text(max_size=10), json_values, max_size=6)
texts = st.text(max_size=20)
offsets = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9000, 1, 1), timezones=offsets
)


def _known_wire_names(cls: type[Any]) -> frozenset[str]:
    return frozenset(f.name.rstrip("_") for f in attrs.fields(cls) if f.name != "extra")


def _extras(cls: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    known = _known_wire_names(cls)
    keys = st.text(max_size=10).filter(lambda k: k not in known)
    return st.dictionaries(keys, json_values, max_size=3)


def _enum_or_text(enum_cls: type[enum.Enum]) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(enum_cls)) | texts


calls = st.builds(
    Call,
    session_id=texts,
    status=_enum_or_text(SessionStatus),
    to=texts,
    from_=texts,
    agent_key=texts,
    created_at=aware,
    call_sid=st.none() | texts,
    metadata=json_objects,
    extra=_extras(Call),
)
numbers = st.none() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
sessions = st.builds(
    VoiceSession,
    id=texts,
    status=_enum_or_text(SessionStatus),
    direction=_enum_or_text(Direction),
    to=texts,
    from_=texts,
    agent_key=texts,
    created_at=aware,
    tenant_id=st.none() | texts,
    started_at=st.none() | aware,
    ended_at=st.none() | aware,
    duration_seconds=numbers,
    call_sid=st.none() | texts,
    metadata=json_objects,
    extra=_extras(VoiceSession),
)
configs = st.builds(
    RuntimeConfig,
    tenant_id=texts,
    version=st.integers(),
    model=st.none() | texts,
    voice=st.none() | texts,
    system_prompt_key=st.none() | texts,
    temperature=numbers,
    max_call_seconds=st.none() | st.integers(),
    updated_at=st.none() | aware,
    extra=_extras(RuntimeConfig),
)


def _data_for(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Instances of one event data class, every field drawn by its annotated kind."""
    kinds: dict[str, st.SearchStrategy[Any]] = {
        "status": _enum_or_text(SessionStatus),
        "direction": _enum_or_text(Direction),
        "duration_seconds": numbers,
        "arguments": json_objects,
        "result": json_objects,
    }
    fields = {f.name: kinds.get(f.name, texts) for f in attrs.fields(cls) if f.name != "extra"}
    return st.builds(cls, **fields, extra=_extras(cls))


_KNOWN_TYPES = {t.value for t in EventType}


@st.composite
def events(draw: st.DrawFn) -> SessionEvent:
    type_ = draw(st.sampled_from(list(EventType)) | texts.filter(lambda t: t not in _KNOWN_TYPES))
    data_cls = EVENT_DATA.get(str(type_))
    data = draw(json_objects if data_cls is None else _data_for(data_cls))
    return SessionEvent(
        type=type_, session_id=draw(texts), seq=draw(st.integers()), ts=draw(aware), data=data
    )


pages = st.builds(
    SessionPage,
    data=st.lists(sessions, max_size=3).map(tuple),
    limit=st.integers(1, 100),
    offset=st.integers(0, 10**6),
    total=st.none() | st.integers(0, 10**6),
    has_more=st.none() | st.booleans(),
)


def _over_the_wire(model: Any) -> Any:
    return json.loads(json.dumps(unstructure(model)))


# -- round trips -----------------------------------------------------------------


@given(model=calls | sessions | configs | events())
def test_every_model_round_trips(model: Any) -> None:
    assert structure(_over_the_wire(model), type(model)) == model


@given(page=pages)
def test_pages_round_trip(page: SessionPage) -> None:
    again = structure_page(_over_the_wire(page), limit=page.limit, offset=page.offset)
    assert again == page


@given(event=events())
def test_event_frames_round_trip(event: SessionEvent) -> None:
    assert decode_event(json.dumps(unstructure(event))) == event


# -- arbitrary input only ever fails one way --------------------------------------


def _decodes_or_validation_error(payload: Any, cls: type[Any]) -> None:
    try:
        result = structure(payload, cls)
    except APIResponseValidationError as exc:
        assert len(str(exc)) <= 300 and len(exc.body_excerpt) <= 200
    else:
        assert isinstance(result, cls)


@settings(max_examples=150)
@given(payload=json_values, cls=st.sampled_from(MODELS))
def test_arbitrary_json_into_any_model(payload: Any, cls: type[Any]) -> None:
    _decodes_or_validation_error(payload, cls)


VALID: dict[type[Any], dict[str, Any]] = {
    Call: p.CALL,
    VoiceSession: p.SESSION,
    RuntimeConfig: p.CONFIG,
    SessionEvent: json.loads(p.event(1)),
}


@settings(max_examples=150)
@given(
    cls=st.sampled_from(list(VALID)),
    data=st.data(),
    value=json_values,
    drop=st.booleans(),
)
def test_valid_payload_with_one_field_broken(
    cls: type[Any], data: st.DataObject, value: Any, drop: bool
) -> None:
    payload = dict(VALID[cls])
    name = data.draw(st.sampled_from(sorted(payload)))
    if drop:
        del payload[name]
    else:
        payload[name] = value
    _decodes_or_validation_error(payload, cls)


@settings(max_examples=150)
@given(payload=json_values, limit=st.integers(1, 100), offset=st.integers(0, 1000))
def test_arbitrary_json_as_a_page(payload: Any, limit: int, offset: int) -> None:
    try:
        page = structure_page(payload, limit=limit, offset=offset)
    except APIResponseValidationError:
        return
    assert isinstance(page, SessionPage) and all(isinstance(s, VoiceSession) for s in page)


@settings(max_examples=150)
@given(frame=st.text(max_size=200) | st.binary(max_size=200) | json_values.map(json.dumps))
def test_arbitrary_event_frames(frame: str | bytes) -> None:
    try:
        event = decode_event(frame)
    except APIResponseValidationError:
        return
    assert isinstance(event, SessionEvent)


# -- error builders ----------------------------------------------------------------

header_maps = st.dictionaries(
    st.sampled_from(["retry-after", "retry-after-ms", "x-request-id", "content-type"])
    | st.text(max_size=10),
    st.text(max_size=40),
    max_size=4,
)


@settings(max_examples=150)
@given(status=st.integers(300, 599), headers=header_maps, body=st.binary(max_size=500))
def test_status_error_accepts_any_response(
    status: int, headers: dict[str, str], body: bytes
) -> None:
    error = status_error(status, headers, body, ("sk_secret_value_1234",))
    assert isinstance(error, APIStatusError) and error.status == status
    assert len(error.body_excerpt) <= 200
    assert error.retry_after is None or error.retry_after >= 0


@given(headers=header_maps)
def test_retry_after_parsing_never_raises(headers: dict[str, str]) -> None:
    value = parse_retry_after(headers)
    assert value is None or value >= 0


# -- server numbers and dates drawn from the extremes (issue 11.2) -------------------

huge_ints = st.integers(min_value=-(10**30), max_value=10**30) | st.sampled_from(
    [2**63, -(2**63), 2**64 + 1, 10**308, -(10**308)]
)
long_digits = st.integers(1, 5_000).map(lambda n: "9" * n) | st.just("1" + "0" * 4_999)
special_numbers = st.sampled_from(
    ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "-Infinity", "1e400", "-1e400", "-0"]
)
zones = st.sampled_from(
    ["GMT", "UTC", "+0000", "-2359", "+2359", "+99999999999999999999", "-99999999999999999999"]
)
edge_dates = (
    st.sampled_from(
        [datetime.min, datetime.max, datetime(1970, 1, 1), datetime(9999, 12, 31, 23, 59, 59)]
    )
    | st.datetimes()
)
http_dates = st.builds(
    lambda when, zone: (
        when.strftime("%a, %d %b ") + f"{when.year:04d}" + when.strftime(" %H:%M:%S ") + zone
    ),
    edge_dates,
    zones,
)
extreme_values = (
    huge_ints.map(str)
    | long_digits
    | long_digits.map(lambda d: "-" + d)
    | special_numbers
    | http_dates
    | st.floats().map(repr)
)


@settings(max_examples=300)
@given(name=st.sampled_from(["retry-after", "Retry-After", "retry-after-ms"]), value=extreme_values)
def test_retry_after_from_the_extremes(name: str, value: str) -> None:
    """Overflowing zone offsets, years 1 and 9999, NaN, 5,000 digits: None or finite >= 0."""
    seconds = parse_retry_after({name: value})
    assert seconds is None or 0 <= seconds < float("inf")


#: Number tokens as a server might write them in JSON, valid or not.
json_numbers = (
    huge_ints.map(str)
    | long_digits
    | long_digits.map(lambda d: "-" + d)
    | st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400"])
    | st.floats().map(json.dumps)
)


@settings(max_examples=150)
@given(status=st.sampled_from([408, 429, 500, 503]), value=extreme_values, number=json_numbers)
def test_status_error_from_the_extremes(status: int, value: str, number: str) -> None:
    """Extreme Retry-After and request ids, error bodies full of extreme numbers."""
    body = f'{{"error": {{"type": {number}, "message": {number}}}, "n": {number}}}'.encode()
    headers = {"Retry-After": value, "retry-after-ms": value, "x-request-id": value}
    error = status_error(status, headers, body, ("sk_secret_value_1234",))
    assert isinstance(error, APIStatusError) and error.status == status
    assert error.retry_after is None or 0 <= error.retry_after < float("inf")
    assert len(str(error)) <= 1_000


paddings = st.binary(max_size=300) | st.integers(0, 1_200).map(lambda n: b" " * n)


@settings(max_examples=150)
@given(prefix=paddings, suffix=st.binary(max_size=300), json_message=st.booleans())
def test_a_key_echoed_in_an_error_body_is_masked(
    prefix: bytes, suffix: bytes, json_message: bool
) -> None:
    """Not even part of it: a key straddling an excerpt cut must not be half-shown."""
    secret = "sk_live_echoed_secret_0123456789abcdef"
    echoed = prefix + secret.encode() + suffix
    body = (
        json.dumps({"error": {"message": echoed.decode("latin-1")}}).encode()
        if json_message
        else echoed
    )
    error = status_error(500, {}, body, (secret,))
    for text in (str(error), error.body_excerpt):
        assert secret[:12] not in text and secret[-12:] not in text

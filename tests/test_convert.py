"""The decoders: generated from the models, as strict as cattrs, and unable to drift.

``_decoders.make_decoder`` writes each model's decoder out from its
``attrs.fields()``.  These tests hold it to three things: every field of
every model is decoded (a field added to a model without its decoder noticing
fails here), it agrees with cattrs' generic hooks (the reference) on any
payload, and NaN/Infinity never get into a model.
"""

from __future__ import annotations

import enum
import json
import math
import typing
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice_async import APIResponseValidationError, _models
from voice_async._convert import (
    _STRUCTURE_HOOKS,
    DECODERS,
    json_loads,
    loads,
    parse_datetime,
    structure,
    unstructure,
)
from voice_async._decoders import enum_of, make_decoder, wire_name
from voice_async._models import SessionEvent, SessionPage, SessionStatus, TranscriptData
from voice_async._transport import _JSON_ENCODER, _encode_json

MOMENT = datetime(2026, 11, 25, 15, 30, tzinfo=timezone.utc)


def sample(tp: Any, name: str) -> tuple[Any, Any]:
    """(wire value, decoded value) for a field of type ``tp``, never the field's default."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if type(None) in typing.get_args(tp) and len(args) == 1:
        return sample(args[0], name)
    members = enum_of(tp)
    if members is not None:
        member = list(members)[-1]
        return member.value, member
    known: dict[Any, tuple[Any, Any]] = {
        str: (f"v_{name}", f"v_{name}"),
        int: (7, 7),
        float: (1.5, 1.5),
        bool: (True, True),
        datetime: ("2026-11-25T15:30:00Z", MOMENT),
        Mapping[str, Any]: ({"k": name}, {"k": name}),
    }
    if tp not in known:
        pytest.fail(f"no sample for {name}: {tp!r}; teach this test (and _decoders) the type")
    return known[tp]


def full_payload(cls: type[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(wire payload with every field set, expected attribute values) for ``cls``."""
    hints = typing.get_type_hints(cls)
    wire, expected = {}, {}
    for field in attrs.fields(cls):
        if field.name != "extra":
            pair = sample(hints[field.name], field.name)
            wire[wire_name(field.name)], expected[field.name] = pair
    return wire, expected


def test_every_model_has_a_generated_decoder() -> None:
    """A new model without a decoder (or without a test below) fails here."""
    models = {getattr(_models, n) for n in _models.__all__}
    with_fields = {m for m in models if isinstance(m, type) and attrs.has(m)}
    # SessionPage is assembled from decoded sessions.
    assert with_fields - {SessionPage} == set(DECODERS)


#: The models decoded field by field (SessionEvent's ``data`` depends on its ``type``:
#: it has its own test below).
PLAIN = [cls for cls in DECODERS if cls is not SessionEvent]


@pytest.mark.parametrize("cls", PLAIN, ids=lambda c: c.__name__)
def test_every_field_of_every_model_is_decoded(cls: type[Any]) -> None:
    wire, expected = full_payload(cls)
    decoded = structure(wire, cls)
    assert {name: getattr(decoded, name) for name in expected} == expected
    assert decoded.extra == {}  # nothing known ended up as "unknown"
    assert unstructure(decoded) == wire  # and back: renames, datetimes, enums
    assert _STRUCTURE_HOOKS[cls](wire, cls) == decoded  # cattrs agrees


def test_every_field_of_the_event_envelope_is_decoded() -> None:
    payload = {
        "type": "transcript.final",
        "session_id": "vs_1",
        "seq": 9,
        "ts": "2026-11-25T15:30:00Z",
        "data": {"role": "agent", "text": "hello"},
    }
    assert {wire_name(f.name) for f in attrs.fields(SessionEvent)} == set(payload)
    event = structure(payload, SessionEvent)
    assert attrs.asdict(event, recurse=False) == {
        "type": _models.EventType.TRANSCRIPT_FINAL,
        "session_id": "vs_1",
        "seq": 9,
        "ts": MOMENT,
        "data": TranscriptData(role="agent", text="hello"),
    }


# -- generation: a field added to a model is decoded with no other change -----------


class Colour(str, enum.Enum):
    RED = "red"


@attrs.frozen
class Widget:
    name: str
    size: float | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class WidgetV2:  # Widget after a release added fields of every supported kind
    name: str
    size: float | None = None
    colour: Colour | str = "red"
    count: int | None = None
    seen_at: datetime | None = None
    labels: Mapping[str, Any] = attrs.field(factory=dict)
    extra: Mapping[str, Any] = attrs.field(factory=dict)


WIRE_V2 = {
    "name": "w",
    "size": 2,
    "colour": "blue",
    "count": 3.0,
    "seen_at": "2026-11-25T15:30:00Z",
    "labels": {"a": 1},
}


def test_a_field_added_to_a_model_is_decoded_not_left_in_extra() -> None:
    old = make_decoder(Widget, parse_datetime)(WIRE_V2)
    assert old.extra == {k: WIRE_V2[k] for k in ("colour", "count", "seen_at", "labels")}
    new = make_decoder(WidgetV2, parse_datetime)(WIRE_V2)
    assert new == WidgetV2("w", 2, "blue", 3, MOMENT, {"a": 1}, {})
    assert type(new.count) is int and new.extra == {}


@attrs.frozen
class Gadget:
    parts: list[str]


def test_a_field_the_generator_cannot_decode_fails_loudly_at_import() -> None:
    with pytest.raises(TypeError, match=r"Gadget\.parts"):
        make_decoder(Gadget, parse_datetime)


def test_generated_decoder_keeps_required_and_nullable_rules() -> None:
    decode = make_decoder(WidgetV2, parse_datetime)
    with pytest.raises(KeyError):
        decode({"size": 1})
    with pytest.raises(TypeError):
        decode({"name": None})  # null only where the type allows it
    with pytest.raises(TypeError):
        decode({"name": "w", "labels": None})
    with pytest.raises(TypeError):
        decode({"name": "w", "count": True})  # a bool is not an int
    assert decode({"name": "w", "size": None, "count": None}) == WidgetV2("w")
    with pytest.raises(TypeError):
        decode(["not", "an", "object"])


def test_a_decoding_error_names_the_field_and_why() -> None:
    wire, _ = full_payload(_models.VoiceSession)
    with pytest.raises(APIResponseValidationError, match="missing required field 'from'"):
        structure({k: v for k, v in wire.items() if k != "from"}, _models.VoiceSession)
    with pytest.raises(APIResponseValidationError, match="field 'status': expected a string"):
        structure({**wire, "status": 3}, _models.VoiceSession)
    event = {"type": "session.ended", "session_id": "s", "seq": 1, "ts": "2026-11-25T15:30:00Z"}
    with pytest.raises(APIResponseValidationError, match=r"field 'data': .*finite"):
        structure(
            {**event, "data": {"status": "completed", "duration_seconds": math.inf}}, SessionEvent
        )
    with pytest.raises(APIResponseValidationError, match="field 'seq': expected an integer"):
        structure({**event, "seq": "1"}, SessionEvent)


# -- the generated decoders agree with cattrs' generic hooks ------------------------

hostile = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and +-Infinity included
    | st.text(max_size=6)
    | st.sampled_from([*SessionStatus, "2026-11-25T15:30:00Z", "9999-12-31T23:59:59Z"]).map(str)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
    | st.lists(st.integers(), max_size=2)
)


def _outcome(decode: Any, payload: Any) -> Any:
    try:
        decoded = decode(payload)
    except (KeyError, TypeError, ValueError) as exc:
        return type(exc)
    values = attrs.astuple(decoded, recurse=False)
    return decoded, [type(v) for v in values]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("cls", PLAIN, ids=lambda c: c.__name__)
def test_generated_decoder_matches_cattrs_on_any_payload(cls: type[Any], data: Any) -> None:
    wire, _ = full_payload(cls)
    # One change at a time: with two broken fields the two may report either first.
    key = data.draw(st.sampled_from([*wire, "extra", "unknown"]))
    if data.draw(st.booleans()):
        payload = {k: v for k, v in wire.items() if k != key}
    else:
        payload = {**wire, key: data.draw(hostile)}
    reference = _outcome(lambda p: _STRUCTURE_HOOKS[cls](p, cls), payload)
    assert _outcome(DECODERS[cls], payload) == reference


# -- NaN and Infinity ------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_invalid_for_a_float_field(bad: float) -> None:
    wire, _ = full_payload(_models.VoiceSession)
    with pytest.raises(APIResponseValidationError, match="finite"):
        structure({**wire, "duration_seconds": bad}, _models.VoiceSession)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_loads_rejects_the_non_json_number_tokens(token: str) -> None:
    with pytest.raises(ValueError, match="not a JSON number"):
        loads(f'{{"metadata": {{"x": [{token}]}}}}'.encode())
    assert loads(b'{"a": [1.5, -2, 1e300]}') == {"a": [1.5, -2, 1e300]}
    assert loads('"\u00e9"') == "\u00e9"


# -- the scanner-direct parser is json.loads, value for value and error for error ----

_JSON_CASES = [
    '{"a": 1}',
    "[1, 2.5, null, true, false]",
    '"text"',
    "12",
    ' {"a": 1}',  # leading whitespace: the full decoder's path
    '{"a": 1} \n',  # trailing whitespace: same
    '{"a": 1} x',  # extra data
    '{"a": 1}{"b": 2}',
    "",
    "   ",
    "{",
    '{"a": }',
    "\ufeff{}",
    '{"a": 1, "a": 2}',
    '"\\ud800"',
    "1" * 5000,
    "NaN",
    "[" * 100_000 + "]" * 100_000,
]


def _parsed(parse: Any, text: str | bytes) -> tuple[str, Any]:
    """What ``parse`` made of ``text``: ``("value", repr)`` or ``("error", family)``."""
    try:
        return "value", repr(parse(text))  # repr: NaN equals NaN
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return "error", ValueError
    except RecursionError:
        return "error", RecursionError


@pytest.mark.parametrize("text", _JSON_CASES, ids=range(len(_JSON_CASES)))
def test_json_loads_matches_the_standard_library(text: str) -> None:
    expected = _parsed(json.loads, text)
    assert _parsed(json_loads, text) == expected
    assert _parsed(json_loads, text.encode()) == expected


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
@settings(max_examples=300, deadline=None)
def test_json_loads_round_trips_what_json_dumps_writes(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, indent=1)):
        assert json_loads(text) == json.loads(text)
        assert json_loads(text.encode()) == json.loads(text)
        assert loads(text.encode()) == json.loads(text)


# -- the prebuilt body encoder writes what the reference encoder writes ----------------


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
@settings(max_examples=300, deadline=None)
def test_body_encoder_matches_the_reference_encoder(value: Any) -> None:
    assert _encode_json(value) == _JSON_ENCODER.encode(value)


def test_body_encoder_fails_like_the_reference_encoder() -> None:
    circular: list[Any] = []
    circular.append(circular)
    for bad, error in ((object(), TypeError), ({"a": {1j}}, TypeError), (circular, ValueError)):
        with pytest.raises(error) as raised:
            _encode_json(bad)
        with pytest.raises(error) as expected:
            _JSON_ENCODER.encode(bad)
        assert str(raised.value) == str(expected.value)

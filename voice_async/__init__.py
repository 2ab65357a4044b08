"""voice_async: the async-first Python SDK for the StateSet Voice API.

Public surface only; everything else lives in private modules.

Names are imported on first use (PEP 562 module ``__getattr__``): ``import
voice_async`` stays cheap, so ``stateset-voice --help`` and programs that only
need a model or an error class do not pay for aiohttp, websockets, cattrs or
rich.  ``from voice_async import AsyncVoiceClient`` works as usual; type
checkers and IDEs read the ``TYPE_CHECKING`` imports below.

To export a new name: add it to ``_EXPORTS`` (name -> private module), to the
``TYPE_CHECKING`` block, and to ``__all__``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncVoiceClient
    from ._config import Timeout
    from ._errors import (
        APIConnectionError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ConfigurationError,
        ConflictError,
        EventGapError,
        EventStreamError,
        InternalServerError,
        InvalidRequestError,
        MissingCredentialsError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        SessionNotFoundError,
        StreamUnauthorizedError,
        UnprocessableEntityError,
        VoiceError,
    )
    from ._events import EventStream
    from ._events_watch import SessionWatch
    from ._models import (
        AgentResponseData,
        Call,
        Direction,
        ErrorData,
        EventData,
        EventType,
        RuntimeConfig,
        SessionEndedData,
        SessionEvent,
        SessionPage,
        SessionStartedData,
        SessionStatus,
        SessionStatusData,
        ToolCallData,
        ToolResultData,
        TranscriptData,
        VoiceSession,
    )
    from ._pagination import Checkpoint, SessionIterator
    from ._retry import RetryPolicy
    from ._runtime import Runtime

#: Public name -> the private module that defines it (imported on first use).
_EXPORTS: dict[str, str] = {
    "AsyncVoiceClient": "._client",
    "Timeout": "._config",
    "APIConnectionError": "._errors",
    "APIResponseValidationError": "._errors",
    "APIStatusError": "._errors",
    "APITimeoutError": "._errors",
    "AuthenticationError": "._errors",
    "BadRequestError": "._errors",
    "ClientClosedError": "._errors",
    "ConfigurationError": "._errors",
    "ConflictError": "._errors",
    "EventGapError": "._errors",
    "EventStreamError": "._errors",
    "InternalServerError": "._errors",
    "InvalidRequestError": "._errors",
    "MissingCredentialsError": "._errors",
    "NotFoundError": "._errors",
    "PermissionDeniedError": "._errors",
    "RateLimitError": "._errors",
    "SessionNotFoundError": "._errors",
    "StreamUnauthorizedError": "._errors",
    "UnprocessableEntityError": "._errors",
    "VoiceError": "._errors",
    "EventStream": "._events",
    "SessionWatch": "._events_watch",
    "AgentResponseData": "._models",
    "Call": "._models",
    "Direction": "._models",
    "ErrorData": "._models",
    "EventData": "._models",
    "EventType": "._models",
    "RuntimeConfig": "._models",
    "SessionEndedData": "._models",
    "SessionEvent": "._models",
    "SessionPage": "._models",
    "SessionStartedData": "._models",
    "SessionStatus": "._models",
    "SessionStatusData": "._models",
    "ToolCallData": "._models",
    "ToolResultData": "._models",
    "TranscriptData": "._models",
    "VoiceSession": "._models",
    "Checkpoint": "._pagination",
    "SessionIterator": "._pagination",
    "RetryPolicy": "._retry",
    "Runtime": "._runtime",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AgentResponseData",
    "AsyncVoiceClient",
    "AuthenticationError",
    "BadRequestError",
    "Call",
    "Checkpoint",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "Direction",
    "ErrorData",
    "EventData",
    "EventGapError",
    "EventStream",
    "EventStreamError",
    "EventType",
    "InternalServerError",
    "InvalidRequestError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "Runtime",
    "RuntimeConfig",
    "SessionEndedData",
    "SessionEvent",
    "SessionIterator",
    "SessionNotFoundError",
    "SessionPage",
    "SessionStartedData",
    "SessionStatus",
    "SessionStatusData",
    "SessionWatch",
    "StreamUnauthorizedError",
    "Timeout",
    "ToolCallData",
    "ToolResultData",
    "TranscriptData",
    "UnprocessableEntityError",
    "VoiceError",
    "VoiceSession",
    "__version__",
]

"""voice_async: the async-first Python SDK for the StateSet Voice API.

Public surface only; everything else lives in private modules.
"""

import importlib
from typing import TYPE_CHECKING, Any

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
    EventProtocolError,
    EventStreamError,
    InternalServerError,
    InvalidRequestError,
    MissingCredentialsError,
    NotFoundError,
    PaginationStalledError,
    PermissionDeniedError,
    RateLimitError,
    SessionNotFoundError,
    StreamUnauthorizedError,
    UnprocessableEntityError,
    VoiceError,
)
from ._events_core import EventStreamOptions
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
from ._pagination import Checkpoint, SessionIterator, SessionPageIterator
from ._paths import SessionFilters
from ._retry import RetryPolicy
from ._runtime import Runtime
from ._version import __version__

if TYPE_CHECKING:
    from ._events import EventStream
    from ._events_watch import SessionWatch

#: Imported on first use: they pull in ``websockets``, which ``import
#: voice_async`` should not pay for.
_LAZY = {"EventStream": "._events", "SessionWatch": "._events_watch"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


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
    "EventProtocolError",
    "EventStream",
    "EventStreamError",
    "EventStreamOptions",
    "EventType",
    "InternalServerError",
    "InvalidRequestError",
    "MissingCredentialsError",
    "NotFoundError",
    "PaginationStalledError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "Runtime",
    "RuntimeConfig",
    "SessionEndedData",
    "SessionEvent",
    "SessionFilters",
    "SessionIterator",
    "SessionNotFoundError",
    "SessionPage",
    "SessionPageIterator",
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

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
    from ._campaign import CampaignRun
    from ._campaign_core import (
        CallRow,
        CampaignResult,
        CampaignSummary,
        campaign_idempotency_key,
        row_key,
    )
    from ._campaign_limit import AdaptiveRateLimiter, RateLimiter
    from ._client import AsyncVoiceClient, ClientWithRawResponse
    from ._config import Timeout
    from ._errors import (
        APIConnectionError,
        APIError,
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
        ResponseTooLargeError,
        SessionNotFoundError,
        StreamUnauthorizedError,
        UnprocessableEntityError,
        VoiceError,
    )
    from ._events import EventStream
    from ._events_core import EventStreamOptions
    from ._events_watch import SessionWatch
    from ._hooks import (
        RequestInfo,
        ResponseInfo,
        RetryInfo,
        StreamConnectInfo,
        StreamGiveUpInfo,
        StreamReconnectInfo,
    )
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
    from ._raw import RawResponse
    from ._retry import RetryPolicy
    from ._runtime import Runtime
    from .resources.admin import AdminWithRawResponse
    from .resources.calls import CallsWithRawResponse
    from .resources.sessions import SessionsWithRawResponse

#: Public name -> the private module that defines it (imported on first use).
_EXPORTS: dict[str, str] = {
    "CampaignRun": "._campaign",
    "CallRow": "._campaign_core",
    "CampaignResult": "._campaign_core",
    "CampaignSummary": "._campaign_core",
    "campaign_idempotency_key": "._campaign_core",
    "row_key": "._campaign_core",
    "AdaptiveRateLimiter": "._campaign_limit",
    "RateLimiter": "._campaign_limit",
    "AsyncVoiceClient": "._client",
    "ClientWithRawResponse": "._client",
    "AdminWithRawResponse": ".resources.admin",
    "CallsWithRawResponse": ".resources.calls",
    "SessionsWithRawResponse": ".resources.sessions",
    "Timeout": "._config",
    "APIConnectionError": "._errors",
    "APIError": "._errors",
    "APIResponseValidationError": "._errors",
    "APIStatusError": "._errors",
    "APITimeoutError": "._errors",
    "AuthenticationError": "._errors",
    "BadRequestError": "._errors",
    "ClientClosedError": "._errors",
    "ConfigurationError": "._errors",
    "ConflictError": "._errors",
    "EventGapError": "._errors",
    "EventProtocolError": "._errors",
    "PaginationStalledError": "._errors",
    "EventStreamError": "._errors",
    "InternalServerError": "._errors",
    "InvalidRequestError": "._errors",
    "MissingCredentialsError": "._errors",
    "NotFoundError": "._errors",
    "PermissionDeniedError": "._errors",
    "RateLimitError": "._errors",
    "ResponseTooLargeError": "._errors",
    "SessionNotFoundError": "._errors",
    "StreamUnauthorizedError": "._errors",
    "UnprocessableEntityError": "._errors",
    "VoiceError": "._errors",
    "EventStream": "._events",
    "EventStreamOptions": "._events_core",
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
    "SessionPageIterator": "._pagination",
    "SessionFilters": "._paths",
    "RawResponse": "._raw",
    "RequestInfo": "._hooks",
    "ResponseInfo": "._hooks",
    "RetryInfo": "._hooks",
    "StreamConnectInfo": "._hooks",
    "StreamGiveUpInfo": "._hooks",
    "StreamReconnectInfo": "._hooks",
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
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AdaptiveRateLimiter",
    "AdminWithRawResponse",
    "AgentResponseData",
    "AsyncVoiceClient",
    "AuthenticationError",
    "BadRequestError",
    "Call",
    "CallRow",
    "CallsWithRawResponse",
    "CampaignResult",
    "CampaignRun",
    "CampaignSummary",
    "Checkpoint",
    "ClientClosedError",
    "ClientWithRawResponse",
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
    "RateLimiter",
    "RawResponse",
    "RequestInfo",
    "ResponseInfo",
    "ResponseTooLargeError",
    "RetryInfo",
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
    "SessionsWithRawResponse",
    "StreamConnectInfo",
    "StreamGiveUpInfo",
    "StreamReconnectInfo",
    "StreamUnauthorizedError",
    "Timeout",
    "ToolCallData",
    "ToolResultData",
    "TranscriptData",
    "UnprocessableEntityError",
    "VoiceError",
    "VoiceSession",
    "__version__",
    "campaign_idempotency_key",
    "row_key",
]

"""voice_async: the async-first Python SDK for the StateSet Voice API.

Public surface only; everything else lives in private modules.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._campaign import CampaignRun
from ._campaign_core import (
    CallRow,
    CampaignResult,
    CampaignSummary,
    campaign_idempotency_key,
    row_key,
)
from ._campaign_limit import AdaptiveRateLimiter, RateLimiter
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
    "AdaptiveRateLimiter",
    "AgentResponseData",
    "AsyncVoiceClient",
    "AuthenticationError",
    "BadRequestError",
    "Call",
    "CallRow",
    "CampaignResult",
    "CampaignRun",
    "CampaignSummary",
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
    "RateLimiter",
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
    "campaign_idempotency_key",
    "row_key",
]

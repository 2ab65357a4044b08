"""Resource namespaces: ``client.sessions``, ``client.admin``, ``client.calls``.

The ``...WithRawResponse`` classes are the types of ``with_raw_response``.
"""

from .admin import AdminResource, AdminWithRawResponse
from .calls import CallsResource, CallsWithRawResponse
from .sessions import SessionsResource, SessionsWithRawResponse

__all__ = [
    "AdminResource",
    "AdminWithRawResponse",
    "CallsResource",
    "CallsWithRawResponse",
    "SessionsResource",
    "SessionsWithRawResponse",
]

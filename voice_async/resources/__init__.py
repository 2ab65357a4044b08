"""Resource namespaces: ``client.sessions``, ``client.admin``, ``client.calls``."""

from .admin import AdminResource
from .calls import CallsResource
from .sessions import SessionsResource

__all__ = ["AdminResource", "CallsResource", "SessionsResource"]

"""Domain errors: expected failures with a message meant for the client.

The GraphQL layer shows these messages as they are (with `extensions.code`) and
never logs them as crashes; anything else is an internal error and is masked.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}


class InvalidInput(DomainError):
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class NotAllowed(DomainError):
    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Conflict(DomainError):
    code = "CONFLICT"


class ActionRequired(DomainError):
    """The session must finish onboarding steps (set password, confirm data) first."""

    code = "ACTION_REQUIRED"


class TooManyAttempts(DomainError):
    """Throttled: the client must wait `retry_after_seconds` (shown as `extensions.retryAfterSeconds`)."""

    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, details={"retryAfterSeconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds

"""How errors reach clients: a stable `extensions.code`, domain messages as written,
everything unexpected masked in production and logged once for the operators."""

from __future__ import annotations

import logging
from graphql import GraphQLError

from service.errors import DomainError

logger = logging.getLogger("ikz.graphql")
MASKED_MESSAGE = "Unexpected error. It has been logged; please try again later."


def is_expected(error: GraphQLError) -> bool:
    """Client mistakes: syntax, validation, variables, and every DomainError."""
    original = error.original_error
    return original is None or isinstance(original, (DomainError, GraphQLError))


def is_unexpected(error: GraphQLError) -> bool:
    return not is_expected(error)


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code
    if original is not None and not isinstance(original, GraphQLError):
        return "INTERNAL_SERVER_ERROR"
    if original is None and error.message == MASKED_MESSAGE:
        return "INTERNAL_SERVER_ERROR"
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    if error.path is not None:
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _with_code(error: GraphQLError) -> GraphQLError:
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", error_code(error))
    original = error.original_error
    if isinstance(original, DomainError):
        if original.field:
            extensions.setdefault("field", original.field)
        if original.code == "TOO_MANY_ATTEMPTS":
            extensions.setdefault("retryAfterSeconds", original.details["retryAfterSeconds"])
    return GraphQLError(
        message=error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=original,
        extensions=extensions,
    )


def with_codes(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Every error gets `extensions.code` (and `field` for input errors)."""
    return [_with_code(e) for e in errors]


def log_unexpected(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            logger.error("unexpected error in %s", ".".join(map(str, error.path or [])) or "request",
                         exc_info=error.original_error)

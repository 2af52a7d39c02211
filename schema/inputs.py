"""Strings a client sends are checked once, at the edge, before anything runs.

No input string may hold a NUL character (PostgreSQL cannot store one in text; SQLite would
cut C strings at it) or a lone surrogate (not encodable as UTF-8, so no database or hash can
take it), or be longer than MAX_STRING_LENGTH. Literals in the document are checked by a
validation rule (cached with the document); variables by the extension, per request.
JSON bodies with lone surrogates never get this far (orjson refuses them: 400).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule
from strawberry.extensions import SchemaExtension

MAX_STRING_LENGTH = 100_000


def string_problem(value: str) -> str | None:
    """Why a client's string cannot be accepted, or None."""
    if "\x00" in value:
        return "contains a NUL character (U+0000)"
    if len(value) > MAX_STRING_LENGTH:
        return f"is longer than {MAX_STRING_LENGTH:,} characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return None


class StringLiteralRule(ValidationRule):
    def enter_string_value(self, node: StringValueNode, *_args) -> None:
        problem = string_problem(node.value)
        if problem:
            self.report_error(GraphQLError(f"A string in the query {problem}.", node,
                                           extensions={"code": "BAD_USER_INPUT"}))


def _variable_problem(value: Any, depth: int = 0) -> str | None:
    if isinstance(value, str):
        return string_problem(value)
    if depth > 64:
        return "is nested too deeply"
    if isinstance(value, dict):
        for key, item in value.items():
            problem = string_problem(key) or _variable_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _variable_problem(item, depth + 1)
            if problem:
                return problem
    return None


def variable_errors(variables: dict[str, Any] | None) -> list[GraphQLError]:
    errors = []
    for name, value in (variables or {}).items():
        problem = (string_problem(name) and "has an invalid name") or _variable_problem(value)
        if problem:
            errors.append(GraphQLError(f"Variable '${name[:40]}' {problem}.", extensions={"code": "BAD_USER_INPUT"}))
    return errors


class StrictVariables(SchemaExtension):
    """Refuses variables with NUL, lone surrogates or over-long strings (after validation)."""

    def on_validate(self):
        context = self.execution_context
        if context.pre_execution_errors == [] and isinstance(context.variables, dict) and context.variables:
            errors = variable_errors(context.variables)
            if errors:
                context.pre_execution_errors = errors
        yield

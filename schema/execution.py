"""A faster path for plain leaf fields in graphql-core's executor.

A page of 50 cooperations with partners and contacts resolves about 1,500 fields, and
graphql-core spends most of a list request on the per-field ceremony (resolve info,
completion, awaitable checks). For the common case, a scalar or enum field without a
resolver of its own on a plain object, this class reads the attribute and coerces it
directly. Only strawberry's "basic" fields qualify: no resolver, no field extensions and
no permission classes (those always take the normal path, so their checks run once, with
the real info, and their errors reach the client). Anything else (resolvers, lists,
objects, nulls, errors) takes the normal path too, so behaviour is unchanged.

Measured (alternating 300 requests each of a page of 50 cooperations, bench/catalogue.py's
query, 1,000 cooperations): 10.39 vs 11.88 ms on SQLite (−12.5%), 9.29 vs 10.50 ms on
PostgreSQL (−11.6%); tests/test_execution.py covers fields with extensions.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, GraphQLNonNull, Undefined, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _plain: dict[int, tuple[Any, Any, bool] | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain = {}

    def _plain_leaf(self, field_def: Any) -> tuple[Any, Any, bool] | None:
        """(resolver, leaf type, nullable) for a plain scalar/enum field, else None (cached per field)."""
        key = id(field_def)
        try:
            return self._plain[key]
        except KeyError:
            pass
        plain = None
        resolver = field_def.resolve
        definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        nullable = not isinstance(field_def.type, GraphQLNonNull)
        leaf_type = field_def.type if nullable else field_def.type.of_type
        if (
            resolver is not None
            and isinstance(definition, StrawberryField)
            and definition.is_basic_field  # no resolver, no extensions, no permission classes
            and getattr(resolver, "_is_default", False)
            and not field_def.args
            and is_leaf_type(leaf_type)
            and (not self.middleware_manager or self.middleware_manager.get_field_resolver(resolver) is resolver)
        ):
            plain = (resolver, leaf_type, nullable)
        self._plain[key] = plain
        return plain

    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        node = field_details_list[0].node
        if not node.arguments and not node.directives:
            field_def = self.schema.get_field(parent_type, node.name.value)
            plain = self._plain_leaf(field_def) if field_def else None
            if plain is not None:
                resolver, leaf_type, nullable = plain
                try:
                    value = resolver(source, None)  # a basic field's resolver ignores info
                    if value is None and nullable:
                        return None
                    if value is not None and value is not Undefined:
                        coerced = leaf_type.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except (AttributeError, TypeError, ValueError, GraphQLError):
                    pass  # the normal path below reports the same error, with its path
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

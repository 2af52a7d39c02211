"""A faster path through graphql-core's executor for plain subtrees.

A page of 50 cooperations with partners and contacts resolves about 1,500 fields, and
graphql-core spends most of a list request on the per-field ceremony (resolve info, paths,
completion, awaitable checks): py-spy put 58 % of a list request's CPU in completing the
edges (bench/peer.py). Most of those fields are plain: the list resolver has loaded
everything, and the nested objects only carry it.

So for a field whose whole selection below it is plain, this class completes the value in one
pass, with a completer compiled once per field of a parsed document (the parser cache hands the
same document back for the same query text). Plain means: strawberry "basic" fields (no
resolver, no field extensions, no permission classes; those always take the normal path, so
their checks run once, with the real info) or synchronous resolvers that take only `self` (no
info, no arguments, no extensions), no arguments or directives anywhere in the selection, no
deferred fragments, and no middleware. Lists, non-null, enums, scalars, `__typename`,
fragments and interfaces (by the interface's own resolve_type, or isinstance) are handled.
Anything unexpected at run time (a null in a non-null field, a value of the wrong type, an
exception) abandons the fast pass for that field and runs the normal path, which reports the
error exactly as stock graphql-core does; reading plain attributes twice changes nothing.

The plans are keyed by the field nodes of the parsed document, so they pay off with the
ParserCache extension (schema/build.py), which returns the same document for the same text.

Measured with bench/peer.py in one run: server CPU per request 46 % lower than the scalar-only fast
path this replaces (README "Speed").
tests/test_execution.py compares answers and errors with stock strawberry.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, Callable

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
MAX_PLANS = 4096


class _NotPlain(Exception):
    """Raised while compiling (the selection is not plain) or completing (take the normal path)."""


NOT_PLAIN = _NotPlain()
Completer = Callable[[Any], Any]
# (schema, parent type, field nodes) -> (the pinned key objects, getter and completer, or None)
_plans: dict[tuple, tuple[tuple, tuple[Callable, Completer] | None]] = {}


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        plan = self._plan(parent_type, field_details_list)
        if plan is not None:
            getter, complete = plan
            try:
                return complete(getter(source))
            except Exception:  # noqa: BLE001 - the normal path below reports it, with its path
                pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def _plan(self, parent_type, field_details_list) -> tuple[Callable, Completer] | None:
        nodes = tuple(d.node for d in field_details_list)
        key = (id(self.schema), id(parent_type), *map(id, nodes))
        found = _plans.get(key)
        if found is not None and found[0][0] is self.schema and found[0][1] is parent_type:
            return found[1]
        if any(d.defer_usage is not None or d.fragment_variable_values for d in field_details_list):
            plan = None
        else:
            try:
                plan = self._compile_field(parent_type, nodes)
            except _NotPlain:
                plan = None
        if len(_plans) >= MAX_PLANS:
            _plans.clear()
        _plans[key] = ((self.schema, parent_type, nodes), plan)  # pinned: their ids stay unique
        return plan

    # --- compiling -------------------------------------------------------------------------

    def _compile_field(self, parent_type: GraphQLObjectType, nodes: tuple[FieldNode, ...]):
        if any(n.arguments or n.directives for n in nodes):
            raise NOT_PLAIN
        field_def = parent_type.fields.get(nodes[0].name.value)
        if field_def is None or field_def.args:
            raise NOT_PLAIN
        return self._getter(field_def), self._compile_type(field_def.type, nodes)

    def _getter(self, field_def) -> Callable:
        resolver = field_def.resolve
        definition = (field_def.extensions or {}).get(BACKREF)
        if (resolver is None or not isinstance(definition, StrawberryField) or definition.extensions
                or definition.arguments):
            raise NOT_PLAIN
        if self.middleware_manager and self.middleware_manager.get_field_resolver(resolver) is not resolver:
            raise NOT_PLAIN
        if definition.is_basic_field and getattr(resolver, "_is_default", False):
            if definition.default_resolver is getattr:  # what StrawberryField.get_result does, minus two calls
                return attrgetter(definition.python_name)
            return lambda source: resolver(source, None)  # a basic field's resolver ignores info
        base = definition.base_resolver
        if (base is not None and not base.is_async and base.self_parameter is not None
                and base.info_parameter is None and base.root_parameter is None and base.parent_parameter is None):
            return base  # strawberry passes the source as `self`, as here
        raise NOT_PLAIN

    def _compile_type(self, type_, nodes) -> Completer:
        if isinstance(type_, GraphQLNonNull):
            inner = self._compile_type(type_.of_type, nodes)

            def non_null(value):
                if value is None:
                    raise NOT_PLAIN
                return inner(value)
            return non_null
        return self._compile_nullable(type_, nodes)

    def _compile_nullable(self, type_, nodes) -> Completer:
        if isinstance(type_, GraphQLList):
            item = self._compile_type(type_.of_type, nodes)

            def complete_list(value):
                if value is None:
                    return None
                if type(value) not in (list, tuple):
                    raise NOT_PLAIN
                return [item(v) for v in value]
            return complete_list
        if is_leaf_type(type_):
            if any(n.selection_set for n in nodes):
                raise NOT_PLAIN
            coerce = type_.coerce_output_value
            wrapped = getattr(type_, "wrapped_cls", None)
            if isinstance(type_, GraphQLEnumType) and wrapped is not None:
                # strawberry's enum type finds a member's name by a loop over all values; a dict here
                names = {value.value: name for name, value in type_.values.items()}

                def complete_enum(value):
                    if value is None:
                        return None
                    if isinstance(value, wrapped):
                        return names[value.value]
                    out = coerce(value)
                    if out is None or out is Undefined:
                        raise NOT_PLAIN
                    return out
                return complete_enum

            def complete_leaf(value):
                if value is None:
                    return None
                out = coerce(value)
                if out is None or out is Undefined:
                    raise NOT_PLAIN
                return out
            return complete_leaf
        if isinstance(type_, GraphQLObjectType):
            complete_object = self._compile_object(type_, nodes)
            return lambda value: None if value is None else complete_object(value)
        if isinstance(type_, (GraphQLInterfaceType, GraphQLUnionType)):
            return self._compile_abstract(type_, nodes)
        raise NOT_PLAIN

    def _compile_object(self, object_type: GraphQLObjectType, nodes) -> Completer:
        definition = (object_type.extensions or {}).get(BACKREF)
        origin = getattr(definition, "origin", None)
        if origin is None or getattr(definition, "is_graphql_generic", False):
            raise NOT_PLAIN
        grouped: dict[str, list[FieldNode]] = {}
        for node in nodes:
            if node.selection_set is None:
                raise NOT_PLAIN
            self._collect(object_type, node.selection_set.selections, grouped)
        fields: list[tuple[str, Callable | None, Completer | str]] = []
        for response_key, field_nodes in grouped.items():
            if field_nodes[0].name.value == "__typename":
                fields.append((response_key, None, object_type.name))
            else:
                getter, complete = self._compile_field(object_type, tuple(field_nodes))
                fields.append((response_key, getter, complete))

        is_type_of = object_type.is_type_of  # as graphql-core: checked only where the type has one

        def complete_object(value):
            if is_type_of is not None and not is_type_of(value, None):  # strawberry's ignores info
                raise NOT_PLAIN
            out = {}
            for response_key, getter, complete in fields:
                out[response_key] = complete if getter is None else complete(getter(value))
            return out
        return complete_object

    def _collect(self, object_type, selections, grouped: dict[str, list[FieldNode]]) -> None:
        for selection in selections:
            if selection.directives:
                raise NOT_PLAIN
            if isinstance(selection, FieldNode):
                response_key = (selection.alias or selection.name).value
                grouped.setdefault(response_key, []).append(selection)
                continue
            if isinstance(selection, FragmentSpreadNode):
                details = self.fragments.get(selection.name.value)
                if details is None or details.variable_signatures:
                    raise NOT_PLAIN
                fragment = details.definition
                if fragment.directives:
                    raise NOT_PLAIN
            elif isinstance(selection, InlineFragmentNode):
                fragment = selection
            else:
                raise NOT_PLAIN
            condition = fragment.type_condition
            if condition is not None:
                condition_type = self.schema.get_type(condition.name.value)
                if condition_type is None:
                    raise NOT_PLAIN
                if condition_type is not object_type and not (
                        isinstance(condition_type, (GraphQLInterfaceType, GraphQLUnionType))
                        and self.schema.is_sub_type(condition_type, object_type)):
                    continue
            self._collect(object_type, fragment.selection_set.selections, grouped)

    def _compile_abstract(self, abstract_type, nodes) -> Completer:
        possible = self.schema.get_possible_types(abstract_type)
        by_name = {t.name: t for t in possible}
        completers = {t.name: self._compile_object(t, nodes) for t in possible}
        definition = (abstract_type.extensions or {}).get(BACKREF)
        custom = getattr(definition, "resolve_type", None) if isinstance(abstract_type, GraphQLInterfaceType) else None
        origins = [(t.name, t.extensions[BACKREF].origin) for t in possible]

        def runtime_name(value) -> str:
            if custom is not None:
                name = custom(value, None, abstract_type)  # a resolve_type that needs info takes the normal path
            else:
                matches = [n for n, origin in origins if isinstance(value, origin)]
                if len(matches) != 1 or get_strawberry_type_cast(value) is not None:
                    raise NOT_PLAIN
                name = matches[0]
            if not isinstance(name, str) or name not in by_name:
                raise NOT_PLAIN
            return name

        def complete_abstract(value):
            if value is None:
                return None
            return completers[runtime_name(value)](value)
        return complete_abstract

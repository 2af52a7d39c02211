"""Query cost: how many objects a query may return, computed before it runs.

Depth, alias and token limits let a 4 KB query through that nests pages inside pages
(30 aliases of cooperations(first: 100) { partners { organization { cooperations(first: 100) … } } }:
6 million objects, 30 s, 11 MB). As GitHub's API does, the cost of a query is the number of
objects it could return, multiplying page sizes along nested lists:

- a field with `first`/`last` counts that many (the argument, a variable's value, the argument's
  default, or the default page size); on a connection (an object with `edges`) the page size
  applies to the connection's list, not to the connection itself;
- a list without paging arguments counts an assumed size (`ASSUMED_LIST_SIZE`, or its entry in
  `LIST_SIZES` for lists known to be larger);
- an object field counts one per parent; scalars count nothing;
- fragments and inline fragments count where they are spread; on an interface, the most
  expensive of its object types counts (with every fragment that applies to it).

The check is a graphql-core validation rule. It runs after the cached validation of the document
because the cost may depend on the request's variables (`first: $n`).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    is_object_type,
    is_interface_type,
    is_union_type,
)
from graphql.language import DocumentNode
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from graphql.language.visitor import SKIP
from graphql.utilities import TypeInfo

from strawberry.extensions import SchemaExtension

from service.pagination import DEFAULT_PAGE_SIZE

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
ASSUMED_LIST_SIZE = 10
# Lists without paging arguments that hold more than ASSUMED_LIST_SIZE items.
LIST_SIZES: dict[str, int] = {
    "Query.topicFields": 50,
    "Query.legalForms": 50,
    "CooperationFacets.regions": 450,  # 16 states and about 400 districts
    "CooperationFacets.startDecades": 30,  # 1800s to today, and 'unbekannt'
    "CooperationStatistics.topicFields": 50,
    "CooperationStatistics.legalForms": 50,
    "CooperationStatistics.startDecades": 30,
    "CooperationStatistics.regions": 450,
}
PAGE_ARGUMENTS = ("first", "last")
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


class _Cost:
    def __init__(self, context: ValidationContext, variables: dict[str, Any] | None,
                 operation: OperationDefinitionNode) -> None:
        self.context = context
        self.schema = context.schema
        self.variables = variables or {}
        self.defaults: dict[str, Any] = {}
        for definition in operation.variable_definitions or ():
            if isinstance(definition.default_value, IntValueNode):
                self.defaults[definition.variable.name.value] = int(definition.default_value.value)
        self.visiting: set[str] = set()
        self.memo: dict[tuple, int] = {}

    def page_size(self, field_def, node: FieldNode) -> int | None:
        """The page size a field asks for, or None when it takes no paging argument."""
        names = [n for n in PAGE_ARGUMENTS if n in field_def.args]
        if not names:
            return None
        given = {a.name.value: a.value for a in node.arguments or ()}
        for name in names:
            value = given.get(name)
            if value is None:
                continue
            if isinstance(value, IntValueNode):
                return max(0, int(value.value))
            if isinstance(value, VariableNode):
                variable = value.name.value
                actual = self.variables.get(variable, self.defaults.get(variable))
                if isinstance(actual, int) and not isinstance(actual, bool):
                    return max(0, actual)
                if actual is None and variable in self.variables:
                    break  # an explicit null: the resolver's default
                if actual is None:
                    break
            # anything else is refused by validation; count the default
        for name in names:
            default = field_def.args[name].default_value
            if isinstance(default, int) and not isinstance(default, bool):
                return default
        return DEFAULT_PAGE_SIZE

    def selection_set(self, selection_set: SelectionSetNode | None, parent_type, multiplier: int,
                      page: int | None) -> int:
        """Objects below `selection_set` for `multiplier` parents; `page` sizes the next list.

        On an interface or union, the most expensive of its object types counts: the selections
        (fields, and fragments whose type condition applies) are summed per object type.
        """
        if selection_set is None:
            return 0
        candidates = [parent_type]
        if is_interface_type(parent_type) or is_union_type(parent_type):
            candidates = list(self.schema.get_possible_types(parent_type)) or candidates
        return max(self.summed(selection_set, parent_type, concrete, multiplier, page) for concrete in candidates)

    def applies(self, condition, concrete) -> bool:
        if condition is None or condition is concrete:
            return True
        if is_interface_type(condition) or is_union_type(condition):
            return is_object_type(concrete) and self.schema.is_sub_type(condition, concrete)
        return False

    def summed(self, selection_set: SelectionSetNode, lookup_type, concrete, multiplier: int, page: int | None) -> int:
        total = 0
        spread: set[str] = set()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, lookup_type, multiplier, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                fragment_type = self.schema.get_type(condition.name.value) if condition else lookup_type
                if fragment_type is not None and self.applies(fragment_type, concrete):
                    total += self.summed(selection.selection_set, fragment_type, concrete, multiplier, page)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in spread:
                    continue  # spread twice in one selection: executed once
                spread.add(name)
                total += multiplier * self.fragment_unit_cost(name, concrete, page)
        return total

    def fragment_unit_cost(self, name: str, concrete, page: int | None) -> int:
        """A named fragment's cost for one parent, computed once per object type and page size.

        The cost is linear in the number of parents, so this keeps fragments that spread other
        fragments several times (a "fragment bomb") from making the check itself exponential.
        """
        key = (name, concrete.name, page)
        unit = self.memo.get(key)
        if unit is not None:
            return unit
        fragment = self.context.get_fragment(name)
        if fragment is None or name in self.visiting:  # unknown or cyclic: validation says so
            return 0
        fragment_type = self.schema.get_type(fragment.type_condition.name.value)
        unit = 0
        if fragment_type is not None and self.applies(fragment_type, concrete):
            self.visiting.add(name)
            unit = self.summed(fragment.selection_set, fragment_type, concrete, 1, page)
            self.visiting.discard(name)
        self.memo[key] = unit
        return unit

    def field(self, node: FieldNode, parent_type, multiplier: int, page: int | None) -> int:
        name = node.name.value
        if not (is_object_type(parent_type) or is_interface_type(parent_type)):
            return 0
        field_def = parent_type.fields.get(name)
        if field_def is None:
            field_def = _META_FIELDS.get(name) if parent_type is self.schema.query_type else None
            if field_def is None:  # __typename, or unknown (validation says so)
                return 0
        named = get_named_type(field_def.type)
        composite = is_object_type(named) or is_interface_type(named) or is_union_type(named)
        size = self.page_size(field_def, node)
        if is_list_type(get_nullable_type(field_def.type)):
            if size is not None:
                count = size
            elif page is not None:
                count = page
            else:
                count = LIST_SIZES.get(f"{parent_type.name}.{name}", ASSUMED_LIST_SIZE)
            items = multiplier * count
            if not composite:
                return 0
            return items + self.selection_set(node.selection_set, named, items, None)
        if not composite:
            return 0
        # One object per parent; a paged non-list (a connection) passes its page size to its list.
        return multiplier + self.selection_set(node.selection_set, named, multiplier, size)


def operation_cost(context: ValidationContext, operation: OperationDefinitionNode,
                   variables: dict[str, Any] | None = None) -> int:
    root = context.schema.get_root_type(operation.operation)
    if root is None:
        return 0
    return _Cost(context, variables, operation).selection_set(operation.selection_set, root, 1, None)


class QueryCostRule(ValidationRule):
    """Refuses an operation whose cost exceeds `max_cost` (see the module docstring)."""

    max_cost: int = 25_000
    variables: dict[str, Any] | None = None

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
        cost = operation_cost(self.context, node, self.variables)
        if cost > self.max_cost:
            name = f" '{node.name.value}'" if node.name else ""
            self.report_error(GraphQLError(
                f"The query{name} is too complex: it may return {cost:,} objects, at most {self.max_cost:,} "
                "are allowed. Ask for smaller pages (first) or fewer nested lists.",
                node,
                extensions={"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": self.max_cost},
            ))
        return SKIP

    def enter_fragment_definition(self, *_args):
        return SKIP


def cost_rule(max_cost: int, variables: dict[str, Any] | None = None) -> type[QueryCostRule]:
    return type("QueryCostRule", (QueryCostRule,), {"max_cost": max_cost, "variables": variables})


def check_cost(schema, document: DocumentNode, max_cost: int, variables: dict[str, Any] | None,
               operation_name: str | None = None) -> list[GraphQLError]:
    """Errors for the operation of `document` that would run, if it costs too much with these variables.

    The same as validate(schema, document, [cost_rule(max_cost, variables)]) restricted to that
    operation, without a full visit of the document; the result is kept on the (parser-cached)
    document per set of integer variables, so a repeated query costs a dictionary look-up.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    elif len(operations) > 1:
        return []  # execution refuses an ambiguous document anyway
    key = (max_cost, operation_name, tuple(sorted(
        (k, v) for k, v in (variables or {}).items() if v is None or (isinstance(v, int) and not isinstance(v, bool)))))
    cache = document.__dict__.get(_CACHE_ATTRIBUTE)
    if cache is None:
        cache = {}
        object.__setattr__(document, _CACHE_ATTRIBUTE, cache)  # AST nodes are frozen dataclasses
    elif key in cache:
        return list(cache[key])
    errors: list[GraphQLError] = []
    context = ValidationContext(schema, document, TypeInfo(schema), errors.append)
    rule = cost_rule(max_cost, variables)(context)
    for operation in operations:
        rule.enter_operation_definition(operation)
    if len(cache) < 64:
        cache[key] = tuple(errors)
    return errors


_CACHE_ATTRIBUTE = "_ikz_query_cost"


class QueryCostLimit(SchemaExtension):
    """Runs QueryCostRule with the request's variables, after the (cached) validation.

    Must come after ValidationCache in the schema's extensions: it checks only documents that
    passed validation, before execution starts.
    """

    def __init__(self, max_cost: int) -> None:
        super().__init__()
        self.max_cost = max_cost

    def on_validate(self):
        context = self.execution_context
        if context.pre_execution_errors == [] and context.graphql_document is not None and self.max_cost > 0:
            variables = context.variables if isinstance(context.variables, dict) else None
            errors = check_cost(context.schema._schema, context.graphql_document, self.max_cost, variables,
                                context.operation_name)
            if errors:
                context.pre_execution_errors = errors
        yield


# --- fragment expansion ---------------------------------------------------------------------------
# Fragments that spread other fragments several times expand exponentially (F0 spreads F1 twice,
# F1 spreads F2 twice, …: 40 fragments, 2^40 selections). Execution merges such fields, but
# walking the expansion does not: strawberry's depth and alias limiters took 0.3 s at 16 levels
# and doubled with each further level. So the expanded size is counted first, in linear time,
# right after parsing, and a document beyond MAX_EXPANDED_SELECTIONS is refused before any rule
# walks it.

MAX_EXPANDED_SELECTIONS = 5_000


def expanded_selections(document: DocumentNode) -> int:
    """How many selections the operations of `document` hold once every fragment is spread."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[str, int] = {}
    visiting: set[str] = set()

    def count(selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += 1 + count(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                total += 1 + count(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in memo:
                    fragment = fragments.get(name)
                    if fragment is None or name in visiting:  # unknown or cyclic: validation says so
                        memo[name] = 0
                    else:
                        visiting.add(name)
                        memo[name] = count(fragment.selection_set)
                        visiting.discard(name)
                total += 1 + memo[name]
        return total

    return sum(count(d.selection_set) for d in document.definitions if isinstance(d, OperationDefinitionNode))


class FragmentExpansionLimit(SchemaExtension):
    """Refuses documents whose fragments expand beyond MAX_EXPANDED_SELECTIONS (after parsing)."""

    def on_parse(self):
        yield
        document = self.execution_context.graphql_document
        if document is None:
            return
        size = document.__dict__.get(_EXPANSION_ATTRIBUTE)
        if size is None:
            size = expanded_selections(document)
            object.__setattr__(document, _EXPANSION_ATTRIBUTE, size)
        if size > MAX_EXPANDED_SELECTIONS:
            raise GraphQLError(
                f"The query is too complex: with its fragments spread it has {size:,} selections, at most "
                f"{MAX_EXPANDED_SELECTIONS:,} are allowed.",
                extensions={"code": QUERY_TOO_COMPLEX, "selections": size, "maxSelections": MAX_EXPANDED_SELECTIONS},
            )


_EXPANSION_ATTRIBUTE = "_ikz_expanded_selections"

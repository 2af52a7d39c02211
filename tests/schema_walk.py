"""Walking the GraphQL schema: every list field reachable from Query, and full selections.

`list_fields` names every field (as `Type.field`) whose type is a list or a connection (an object
with `edges`), on Query and on every type reachable from it; a connection's own `edges` is its page
and counts under the field that returns the connection. `selection` selects everything below a
type: all scalars, nested objects and lists, a list never revisiting a type on its path and a single object (parent, partOf) at
most once (so cycles such as Cooperation → partners → Municipality → cooperations → Cooperation stop), nested pages asked with
`first: 2`; `fitted` shrinks the depth until a document passes the service's own limits (cost,
depth, tokens), so a probe is always a query a client could send.
"""

from __future__ import annotations

from typing import Callable

from graphql import (
    FieldNode,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    get_nullable_type,
    is_interface_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    parse,
)

from schema.cost import check_cost

INNER_PAGE = 2


def is_connection(type_) -> bool:
    named = get_named_type(type_)
    return is_object_type(named) and "edges" in named.fields and not is_list_type(get_nullable_type(type_))


def _concrete(schema: GraphQLSchema, named) -> list:
    if is_interface_type(named):
        return [named, *schema.get_possible_types(named)]
    return [named]


def list_fields(schema: GraphQLSchema) -> set[str]:
    found: set[str] = set()
    seen: set[str] = set()
    pending = [schema.query_type]
    while pending:
        type_ = pending.pop()
        if type_.name in seen or type_.name.startswith("__"):
            continue
        seen.add(type_.name)
        connection_page = "edges" in type_.fields and type_.name.endswith("Connection")
        for name, field in type_.fields.items():
            nullable = get_nullable_type(field.type)
            if (is_list_type(nullable) or is_connection(field.type)) and not (connection_page and name == "edges"):
                found.add(f"{type_.name}.{name}")
            named = get_named_type(field.type)
            if not is_leaf_type(named):
                pending.extend(_concrete(schema, named))
    return found


def _no_default(argument) -> bool:
    from graphql.pyutils import Undefined

    return argument.default_value is Undefined


def selection(schema: GraphQLSchema, type_name: str, depth: int, visited: tuple[str, ...] = (),
              excluded: frozenset[str] = frozenset()) -> str:
    """Everything below `type_name`, `depth` object levels deep, never entering the `excluded` types."""
    named = schema.get_type(type_name)
    visited = visited + (type_name,)
    parts: list[str] = []
    if is_interface_type(named):
        parts.append("__typename")
    for name, field in named.fields.items():
        if any(is_non_null_type(a.type) and _no_default(a) for a in field.args.values()):
            continue  # needs an argument only a probe can give
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
            continue
        many = is_list_type(get_nullable_type(field.type)) or is_connection(field.type)
        # A list never revisits a type on the path; a single object (parent, partOf) may, once.
        if depth <= 0 or any(visited.count(t.name) >= (1 if many else 2) or t.name in excluded
                             for t in _concrete(schema, inner)):
            continue
        arguments = f"(first: {INNER_PAGE})" if "first" in field.args else ""
        below = selection(schema, inner.name, depth - 1, visited, excluded)
        if below:
            parts.append(f"{name}{arguments} {{ {below} }}")
    if is_interface_type(named):
        for possible in schema.get_possible_types(named):
            if visited.count(possible.name) >= 2 or possible.name in excluded:
                continue
            own = selection(schema, possible.name, depth, visited, excluded)
            if own:
                parts.append(f"... on {possible.name} {{ {own} }}")
    return " ".join(parts)


def _depth(node, level: int = 0) -> int:
    selection_set = getattr(node, "selection_set", None)
    if selection_set is None:
        return level
    deeper = level + 1 if isinstance(node, FieldNode) else level
    return max((_depth(s, deeper) for s in selection_set.selections), default=deeper)


def fitted(schema: GraphQLSchema, make: Callable[[int], str], variables: dict, *, max_cost: int, max_depth: int,
           max_tokens: int, start: int = 4) -> str:
    """The deepest document `make(depth)` that the service's limits accept."""
    for depth in range(start, -1, -1):
        document_text = make(depth)
        try:
            document = parse(document_text, max_tokens=max_tokens)
        except Exception:
            continue
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        if _depth(operation) > max_depth:
            continue
        if check_cost(schema, document, max_cost, variables):
            continue
        return document_text
    raise AssertionError(f"no depth of {make(0)!r} fits the service's limits")


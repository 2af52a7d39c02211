"""schema/execution.py: the fast path for plain leaf fields changes no behaviour.

Fields with permission classes or field extensions take the normal path: their checks run
once, with the real info, and their errors reach the client.
"""

from __future__ import annotations

from enum import Enum

import pytest
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from schema.execution import PlainFieldExecutionContext

calls: list[tuple[str, bool]] = []


class Allowed(BasePermission):
    message = "not allowed here"

    def has_permission(self, source, info, **kwargs) -> bool:
        calls.append(("permission", info is not None and getattr(info, "_raw_info", None) is not None))
        return source.allowed


class Upper(FieldExtension):
    def resolve(self, next_, source, info, **kwargs):
        calls.append(("extension", info is not None and getattr(info, "_raw_info", None) is not None))
        return next_(source, info, **kwargs).upper()


@strawberry.enum
class Colour(Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str
    nickname: str | None
    colour: Colour
    count: int
    allowed: strawberry.Private[bool]
    secret: str = strawberry.field(permission_classes=[Allowed])
    shout: str = strawberry.field(extensions=[Upper()])
    broken: int = 0


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [
            Item(name="a", nickname=None, colour=Colour.RED, count=1, allowed=True, secret="s1", shout="hi"),
            Item(name="b", nickname="bee", colour=Colour.RED, count=2, allowed=False, secret="s2", shout="ho",
                 broken="not a number"),  # type: ignore[arg-type]
        ]


@pytest.fixture(params=["plain", "stock"])
def schema(request):
    kwargs = {"execution_context_class": PlainFieldExecutionContext} if request.param == "plain" else {}
    return strawberry.Schema(query=Query, **kwargs)


async def test_plain_fields_answer_as_with_stock_strawberry(schema):
    result = await schema.execute("{ items { name nickname colour count } }")
    assert result.errors is None
    assert result.data == {"items": [{"name": "a", "nickname": None, "colour": "RED", "count": 1},
                                     {"name": "b", "nickname": "bee", "colour": "RED", "count": 2}]}


async def test_permission_checks_run_once_with_the_real_info_and_their_error_is_shown(schema):
    calls.clear()
    result = await schema.execute("{ items { name secret } }")
    assert calls == [("permission", True), ("permission", True)]
    assert result.data == {"items": [{"name": "a", "secret": "s1"}, None]} or result.data is None
    assert [e.message for e in result.errors] == ["not allowed here"]
    assert result.errors[0].path == ["items", 1, "secret"]


async def test_field_extensions_run_once_with_the_real_info(schema):
    calls.clear()
    result = await schema.execute("{ items { shout } }")
    assert result.errors is None
    assert result.data == {"items": [{"shout": "HI"}, {"shout": "HO"}]}
    assert calls == [("extension", True), ("extension", True)]


async def test_a_value_that_cannot_be_coerced_gives_the_same_error(schema):
    result = await schema.execute("{ items { broken } }")
    assert result.data is None
    assert [e.path for e in result.errors] == [["items", 1, "broken"]]
    assert "Int cannot represent" in result.errors[0].message


# --- whole plain subtrees (lists of objects, interfaces, fragments) ---------------------------------


@strawberry.interface
class Party:
    id: strawberry.ID
    name: str


@strawberry.type
class Town(Party):
    ags: str | None


@strawberry.type
class Club(Party):
    members: int


@strawberry.type
class Link:
    role: Colour
    party: Party
    note: str | None = None

    @strawberry.field
    def label(self) -> str:  # a resolver that takes only self: plain too
        return f"{self.role.value}:{self.party.name}"


@strawberry.type
class Page:
    links: list[Link]
    tags: list[str]
    required: str  # holds None in one test: the non-null error must be the stock one


@strawberry.type
class TreeQuery:
    @strawberry.field
    def page(self, broken: bool = False) -> Page:
        links = [Link(role=Colour.RED, party=Town(id=strawberry.ID("1"), name="Selm", ags="05978032")),
                 Link(role=Colour.RED, party=Club(id=strawberry.ID("2"), name="TuS", members=40), note="n")]
        return Page(links=links, tags=["a", "b"], required=None if broken else "yes")  # type: ignore[arg-type]


TREE = """
query Tree($broken: Boolean!) {
  page(broken: $broken) {
    tags
    required
    links {
      kind: __typename
      role label note
      party { __typename id ...Named ... on Town { ags } ... on Club { members id } }
      party { name }
    }
  }
}
fragment Named on Party { name }
"""


@pytest.fixture(params=["plain", "stock"])
def tree_schema(request):
    kwargs = {"execution_context_class": PlainFieldExecutionContext} if request.param == "plain" else {}
    return strawberry.Schema(query=TreeQuery, types=[Town, Club], **kwargs)


async def test_plain_subtrees_with_interfaces_fragments_aliases_and_resolvers(tree_schema):
    result = await tree_schema.execute(TREE, variable_values={"broken": False})
    assert result.errors is None
    assert result.data == {"page": {"tags": ["a", "b"], "required": "yes", "links": [
        {"kind": "Link", "role": "RED", "label": "red:Selm", "note": None,
         "party": {"__typename": "Town", "id": "1", "name": "Selm", "ags": "05978032"}},
        {"kind": "Link", "role": "RED", "label": "red:TuS", "note": "n",
         "party": {"__typename": "Club", "id": "2", "name": "TuS", "members": 40}},
    ]}}
    # the key order of the answer is the order of the query, as in stock graphql-core
    assert list(result.data["page"]["links"][1]["party"]) == ["__typename", "id", "name", "members"]


async def test_a_null_in_a_non_null_field_of_a_plain_subtree_gives_the_stock_error(tree_schema):
    result = await tree_schema.execute(TREE, variable_values={"broken": True})
    assert result.data is None
    assert [e.path for e in result.errors] == [["page", "required"]]
    assert "Cannot return null for non-nullable field Page.required" in result.errors[0].message


async def test_skip_and_include_are_honoured_below_a_plain_field(tree_schema):
    query = "query($no: Boolean!) { page { links { role note @skip(if: $no) party { name @include(if: $no) } } } }"
    skipped = await tree_schema.execute(query, variable_values={"no": True})
    shown = await tree_schema.execute(query, variable_values={"no": False})
    assert skipped.data["page"]["links"][1] == {"role": "RED", "party": {"name": "TuS"}}
    assert shown.data["page"]["links"][1] == {"role": "RED", "note": "n", "party": {}}


async def test_the_plain_subtree_is_compiled_once_and_used():
    from schema import execution

    from strawberry.extensions import ParserCache

    schema = strawberry.Schema(query=TreeQuery, types=[Town, Club], execution_context_class=PlainFieldExecutionContext,
                               extensions=[lambda: ParserCache(maxsize=8)])  # as schema/build.py: one document per query text
    execution._plans.clear()
    await schema.execute(TREE, variable_values={"broken": False})
    planned = {pinned[2][0].name.value: plan is not None for pinned, plan in execution._plans.values()}
    assert planned == {"page": False, "tags": True, "required": True, "links": True}  # links: one pass, no descent
    count = len(execution._plans)
    await schema.execute(TREE, variable_values={"broken": False})
    assert len(execution._plans) == count  # the parsed document is the same object: no new plans

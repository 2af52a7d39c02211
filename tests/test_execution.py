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

import asyncio, sys, time, importlib.util, statistics
spec = importlib.util.spec_from_file_location("cat", "bench/catalogue.py"); cat = importlib.util.module_from_spec(spec); sys.modules["cat"] = cat; spec.loader.exec_module(cat)
from pathlib import Path
import strawberry
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig
from service import db
from service.config import set_settings
from schema.context import Context
import schema.build as sb
from schema import build_schema
import schema.catalogue.queries as qmod
URL = sys.argv[1]

def fixed_schema(settings):
    schema = build_schema(settings)
    fixed = []
    for factory in schema.extensions:
        inst = factory() if callable(factory) and not isinstance(factory, type) else None
        if isinstance(inst, AddValidationRules):
            rules = inst.validation_rules
            fixed.append(lambda rules=rules: AddValidationRules(rules))
        else:
            fixed.append(factory)
    schema.extensions = fixed
    return schema

async def timeit(fn, n=300):
    for _ in range(20): await fn()
    xs = []
    for _ in range(n):
        t0 = time.perf_counter(); await fn(); xs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(xs)

async def main():
    settings = cat.make_settings(Path("/tmp"), URL); set_settings(settings)
    db.install_query_counting()
    await db.init_db(URL)
    q = cat.variants(1)[0].graphql
    bad = "query { cooperations(first: 50) { edges { node { partners { organization { ... on Municipality { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } } } } } }"
    for label, schema in (("current build_schema", build_schema(settings)), ("shared validator classes", fixed_schema(settings))):
        async def direct():
            r = await schema.execute(q, context_value=Context(request=None, response=None, settings=settings))
            assert not r.errors, r.errors
        print(f"{label:28s} schema.execute {await timeit(direct):.2f} ms")
        r = await schema.execute(bad, context_value=Context(request=None, response=None, settings=settings))
        r2 = await schema.execute(bad, context_value=Context(request=None, response=None, settings=settings))
        print("   depth limit still enforced:", [e.message[:60] for e in r.errors], [e.message[:60] for e in r2.errors])
    # stub the resolver's data work: pure GraphQL cost
    schema = fixed_schema(settings)
    res = await qmod.coop_service.list_page(qmod.coop_service.CooperationFilter(), qmod.page_request(50, None, "TITLE:ASC"))
    ctx = Context(request=None, response=None, settings=settings)
    paths = None
    nodes = await qmod.build_cooperations(res.rows, ctx, None)
    total = await qmod.coop_service.count(qmod.coop_service.CooperationFilter())
    async def lp(*a, **k): return res
    async def bc(*a, **k): return nodes
    async def vf(*a, **k): return None
    async def cnt(*a, **k): return total
    qmod.coop_service.list_page = lp; qmod.build_cooperations = bc; qmod.coop_service.validate_filter = vf; qmod.coop_service.count = cnt
    import schema.catalogue.types as tmod
    async def direct():
        r = await schema.execute(q, context_value=Context(request=None, response=None, settings=settings))
        assert not r.errors, r.errors
    print(f"stubbed data (GraphQL only)  schema.execute {await timeit(direct):.2f} ms")
    await db.close_db()
asyncio.run(main())

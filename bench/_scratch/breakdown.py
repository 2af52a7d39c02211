import asyncio, sys, time, json, cProfile, pstats, io, importlib.util, statistics
spec = importlib.util.spec_from_file_location("cat", "bench/catalogue.py"); cat = importlib.util.module_from_spec(spec); sys.modules["cat"] = cat; spec.loader.exec_module(cat)
import httpx
from pathlib import Path
from service import db
from service.config import set_settings
from service.catalogue import cooperations as cs, reference
from service.pagination import page_request
from schema.catalogue.build import build_cooperations
from schema.context import Context

URL = sys.argv[1]
async def timeit(fn, n=200):
    for _ in range(10): await fn()
    xs = []
    for _ in range(n):
        t0 = time.perf_counter(); await fn(); xs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(xs)

async def main():
    settings = cat.make_settings(Path("/tmp"), URL); set_settings(settings)
    db.install_query_counting()
    await db.init_db(URL)
    from service.web.app import create_app
    app = create_app(settings, manage_db=False)
    schema = app.routes[0].endpoint.schema if hasattr(app.routes[0].endpoint, "schema") else None
    from schema import build_schema
    schema = build_schema(settings)
    q = cat.variants(1)[0].graphql
    sql, params = cat.baseline_statement(cat.variants(1)[0])
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=cat.BASE_URL) as client:
        async def full(): return await cat.run_graphql(client, q)
        print("A full POST          ", await timeit(full))
        async def health(): return (await client.get("/health")).json()
        print("  GET /health (ASGI+1 stmt)", await timeit(health))
    ctx = Context(request=None, response=None, settings=settings)
    async def direct():
        r = await schema.execute(q, context_value=Context(request=None, response=None, settings=settings))
        assert not r.errors, r.errors
        return r
    print("B schema.execute     ", await timeit(direct))
    flt = cs.CooperationFilter()
    async def service():
        page = page_request(50, None, "TITLE:ASC")
        await cs.validate_filter(flt)
        res = await cs.list_page(flt, page)
        nodes = await build_cooperations(res.rows, ctx, {"id","title","status","startYear","sinceText","dataAsOf","legalForm","legalForm.code","legalForm.label","topicFields","topicFields.id","topicFields.label","partners","partners.role","partners.organization","partners.organization.id","partners.organization.name","contacts","contacts.id","contacts.name","contacts.email","contacts.phone"})
        await cs.count(flt)
        return nodes
    print("C service+build      ", await timeit(service))
    stmts = []
    from service import sql as sqlmod
    orig = sqlmod.fetch
    async def rec(s, p=()):
        stmts.append((sqlmod.render(s, db.dialect()), list(p))); return await orig(s, p)
    sqlmod.fetch = rec
    import service.catalogue.cooperations as m1, service.catalogue.reference as m2
    m1.fetch = rec; m2.fetch = rec
    await service()
    m1.fetch = orig; m2.fetch = orig; sqlmod.fetch = orig
    conn = db.connection()
    async def raw():
        for s, p in stmts: await conn.execute_query_dict(s, p)
    print("D the", len(stmts), "statements raw", await timeit(raw))
    for s, p in stmts:
        async def one(): await conn.execute_query_dict(s, p)
        print(f"   {await timeit(one):.3f} ms  {s[:110]}")
    async def base(): return await cat.run_baseline(sql, params)
    print("E baseline           ", await timeit(base))
    async def noop(): await conn.execute_query_dict("SELECT 1", [])
    print("  SELECT 1 roundtrip ", await timeit(noop))
    # profile B
    pr = cProfile.Profile(); pr.enable()
    for _ in range(100): await direct()
    pr.disable()
    s = io.StringIO(); st = pstats.Stats(pr, stream=s); st.sort_stats("cumulative").print_stats(45); st.print_callers("visitor.py:181")
    print(s.getvalue()[:12000])
    await db.close_db()
asyncio.run(main())

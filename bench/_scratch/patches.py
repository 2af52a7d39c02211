"""patches.py URL [patch,...]: full POST medians for the 3 variants with optional monkeypatches."""
import asyncio, sys, time, importlib.util, statistics
spec = importlib.util.spec_from_file_location("cat", "bench/catalogue.py"); cat = importlib.util.module_from_spec(spec); sys.modules["cat"] = cat; spec.loader.exec_module(cat)
from pathlib import Path
import httpx
from strawberry.extensions import AddValidationRules
from service import db
from service.config import set_settings
URL = sys.argv[1]; PATCHES = set(sys.argv[2].split(",")) if len(sys.argv) > 2 and sys.argv[2] else set()
N = 150
async def timeit(fn, n=N):
    for _ in range(15): await fn()
    xs = []
    for _ in range(n):
        t0 = time.perf_counter(); await fn(); xs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(xs)

def apply():
    import schema
    if "validation" in PATCHES:
        orig = schema.build_schema
        def fixed(settings=None):
            s = orig(settings); out = []
            for f in s.extensions:
                inst = f() if callable(f) and not isinstance(f, type) else None
                if isinstance(inst, AddValidationRules):
                    out.append(lambda rules=inst.validation_rules: AddValidationRules(rules))
                else:
                    out.append(f)
            s.extensions = out; return s
        schema.build_schema = fixed
    if "reference" in PATCHES:
        from service.catalogue import reference
        cache = {}
        for name in ("topic_fields", "legal_forms"):
            orig_fn = getattr(reference, name)
            async def cached(orig_fn=orig_fn, name=name):
                if name not in cache: cache[name] = await orig_fn()
                return cache[name]
            setattr(reference, name, cached)

async def main():
    apply()
    settings = cat.make_settings(Path("/tmp"), URL)
    if "production" in PATCHES:
        settings = settings.with_overrides(app_env="production")
    set_settings(settings)
    if "production" not in PATCHES: db.install_query_counting()
    await db.init_db(URL)
    busiest = (await db.connection().execute_query_dict("SELECT organization_id FROM cooperation_partner GROUP BY organization_id ORDER BY COUNT(*) DESC, organization_id LIMIT 1"))[0]["organization_id"]
    from service.web.app import create_app
    app = create_app(settings, manage_db=False)
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=cat.BASE_URL) as client:
        for v in cat.variants(busiest):
            sql, params = cat.baseline_statement(v)
            body = await cat.run_graphql(client, v.graphql)
            cat.verify(v.name, body, await cat.run_baseline(sql, params))
            g = await timeit(lambda: cat.run_graphql(client, v.graphql))
            b = await timeit(lambda: cat.run_baseline(sql, params))
            out.append(f"{v.name} {g:.2f}/{b:.2f}={g/b:.1f}")
    print(f"{URL.split('/')[-1][:40]:40s} {','.join(sorted(PATCHES)) or 'none':30s} " + "  ".join(out))
    await db.close_db()
asyncio.run(main())

import asyncio, sys, time, cProfile, pstats, io, importlib.util, statistics
spec = importlib.util.spec_from_file_location("cat", "bench/catalogue.py"); cat = importlib.util.module_from_spec(spec); sys.modules["cat"] = cat; spec.loader.exec_module(cat)
from pathlib import Path
from service import db
from service.config import set_settings
from schema.context import Context
from schema import build_schema
URL = sys.argv[1]
async def main():
    settings = cat.make_settings(Path("/tmp"), URL); set_settings(settings)
    db.install_query_counting()
    await db.init_db(URL)
    schema = build_schema(settings)
    q = cat.variants(1)[0].graphql
    async def direct():
        r = await schema.execute(q, context_value=Context(request=None, response=None, settings=settings))
        assert not r.errors
    for _ in range(20): await direct()
    pr = cProfile.Profile(); pr.enable()
    for _ in range(100): await direct()
    pr.disable()
    s = io.StringIO(); st = pstats.Stats(pr, stream=s); st.sort_stats("cumulative")
    st.print_callees("complete_abstract_value")
    st.print_callees("_resolve_type")
    print(s.getvalue()[:6000])
    from strawberry.extensions.parser_cache import _get_parse_cache
    from strawberry.extensions.validation_cache import _get_validate_cache
    print("parse", _get_parse_cache(512).cache_info(), "validate", _get_validate_cache(512).cache_info())
    await db.close_db()
asyncio.run(main())

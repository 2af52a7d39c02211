"""Build a persistent DB for investigation: build.py sqlite|postgres size"""
import asyncio, sys, random, importlib.util
spec = importlib.util.spec_from_file_location("cat", "bench/catalogue.py"); cat = importlib.util.module_from_spec(spec); sys.modules["cat"] = cat; spec.loader.exec_module(cat)
from service import db
from service.catalogue.seed import load_seeds
from pathlib import Path
async def main():
    kind, size = sys.argv[1], int(sys.argv[2])
    if kind == "sqlite":
        url = f"sqlite:///tmp/ikz-inv-{size}.sqlite3"
        Path(f"/tmp/ikz-inv-{size}.sqlite3").unlink(missing_ok=True)
    else:
        import asyncpg
        name = f"ikz_bench_inv{size}"
        c = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'); await c.execute(f'CREATE DATABASE "{name}"'); await c.close()
        url = f"postgres://postgres@127.0.0.1:5432/{name}"
    await db.migrate(url); await db.close_db(); await db.init_db(url); await load_seeds()
    g = await cat.generate(size, random.Random(cat.SEED)); await cat.check_and_analyze()
    print(url, g)
    await db.close_db()
asyncio.run(main())

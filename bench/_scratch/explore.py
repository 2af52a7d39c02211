import asyncio, tempfile, time, os, sys
sys.path.insert(0, os.getcwd())
from service import db
from service.catalogue.seed import load_seeds
async def main():
    d = tempfile.mkdtemp()
    url = f"sqlite://{d}/x.sqlite3"
    t=time.perf_counter()
    await db.migrate(url); await db.close_db(); await db.init_db(url)
    print("migrate", time.perf_counter()-t)
    t=time.perf_counter()
    await load_seeds()
    print("seeds", time.perf_counter()-t)
    c = db.connection()
    for q in ["select id,data_as_of,created_at,last_approved_change_at,sort_title,search_text,status,performer_kind from cooperation limit 3",
              "select * from contact limit 2", "select * from organization_ancestor limit 5", "select sql from sqlite_master where name in ('cooperation','contact','organization','cooperation_partner')",
              "select typeof(data_as_of), typeof(created_at) from cooperation limit 1", "select max(id) from organization"]:
        for r in await c.execute_query_dict(q): print(r)
    await db.close_db()
asyncio.run(main())

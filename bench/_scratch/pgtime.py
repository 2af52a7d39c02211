import asyncio, asyncpg, time, statistics, sys
DSN = "postgresql://postgres@127.0.0.1:5432/ikz_bench_inv100000"
async def t(conn, sql, *args, n=100):
    for _ in range(10): await conn.fetch(sql, *args)
    xs = []
    for _ in range(n):
        t0 = time.perf_counter(); await conn.fetch(sql, *args); xs.append((time.perf_counter()-t0)*1000)
    return statistics.median(xs)
async def main():
    conn = await asyncpg.connect(DSN)
    if "--setup" in sys.argv:
        await conn.execute("ALTER TABLE cooperation ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED")
        await conn.execute("CREATE INDEX IF NOT EXISTS cooperation_search_vector ON cooperation USING GIN (search_vector)")
        await conn.execute("VACUUM ANALYZE cooperation")
    Q = {
     "count all": "SELECT COUNT(*) FROM cooperation c",
     "partner page": "SELECT c.id, c.title, c.sort_title FROM cooperation c WHERE c.id IN (SELECT p.cooperation_id FROM cooperation_partner p WHERE p.organization_id IN (221)) ORDER BY c.sort_title COLLATE \"C\", c.id LIMIT 51",
     "partner count": "SELECT COUNT(*) FROM cooperation c WHERE c.id IN (SELECT p.cooperation_id FROM cooperation_partner p WHERE p.organization_id IN (221))",
     "partner count link-only": "SELECT COUNT(DISTINCT cooperation_id) FROM cooperation_partner p WHERE p.organization_id IN (221)",
     "search page expr": "SELECT c.id, c.title FROM cooperation c WHERE to_tsvector('simple', c.search_text) @@ to_tsquery('simple', 'abwasser:*') ORDER BY c.sort_title COLLATE \"C\", c.id LIMIT 51",
     "search count expr": "SELECT COUNT(*) FROM cooperation c WHERE to_tsvector('simple', c.search_text) @@ to_tsquery('simple', 'abwasser:*')",
    }
    if "--setup" in sys.argv or "--stored" in sys.argv:
        Q["search page stored"] = "SELECT c.id, c.title FROM cooperation c WHERE c.search_vector @@ to_tsquery('simple', 'abwasser:*') ORDER BY c.sort_title COLLATE \"C\", c.id LIMIT 51"
        Q["search count stored"] = "SELECT COUNT(*) FROM cooperation c WHERE c.search_vector @@ to_tsquery('simple', 'abwasser:*')"
    for k, q in Q.items():
        print(f"{k:28s} {await t(conn, q):.2f} ms")
    await conn.close()
asyncio.run(main())

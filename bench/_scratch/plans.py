import sqlite3, time, sys
con = sqlite3.connect("/tmp/ikz-inv-100000.sqlite3")
busiest = con.execute("SELECT organization_id, COUNT(*) n FROM cooperation_partner GROUP BY organization_id ORDER BY n DESC LIMIT 1").fetchone()
print("busiest", busiest)
from service.catalogue.text import fts5_query, query_terms
W = {"list": ("", []),
     "partner": ("WHERE c.id IN (SELECT p.cooperation_id FROM cooperation_partner p WHERE p.organization_id IN (?))", [busiest[0]]),
     "search": ("WHERE c.id IN (SELECT rowid FROM cooperation_fts WHERE cooperation_fts MATCH ?)", [fts5_query(query_terms("abwasser"))])}
COLS = "c.id, c.title, c.description, c.legal_form_id, c.sort_title"
def t(sql, params, n=30):
    con.execute(sql, params).fetchall()
    t0 = time.perf_counter()
    for _ in range(n): con.execute(sql, params).fetchall()
    return (time.perf_counter() - t0) / n * 1000
for name, (w, p) in W.items():
    page = f"SELECT {COLS} FROM cooperation c {w} ORDER BY c.sort_title, c.id LIMIT 51"
    cnt = f"SELECT COUNT(*) FROM cooperation c {w}"
    print(f"== {name}: page {t(page,p):.2f} ms, count {t(cnt,p):.2f} ms")
    for sql in (page, cnt):
        for row in con.execute("EXPLAIN QUERY PLAN " + sql, p): print("   ", row)
print("--- file size MB", __import__("os").path.getsize("/tmp/ikz-inv-100000.sqlite3")/1e6)
for pragma in ("PRAGMA cache_size=-65536", "PRAGMA mmap_size=268435456"):
    con.execute(pragma)
    for name, (w, p) in W.items():
        page = f"SELECT {COLS} FROM cooperation c {w} ORDER BY c.sort_title, c.id LIMIT 51"
        cnt = f"SELECT COUNT(*) FROM cooperation c {w}"
        print(f"{pragma}: {name}: page {t(page,p):.2f} ms, count {t(cnt,p):.2f} ms")
w, p = W["partner"]
print("count on link table only", t("SELECT COUNT(DISTINCT cooperation_id) FROM cooperation_partner WHERE organization_id IN (?)", p))
print("count fts only", t("SELECT COUNT(*) FROM cooperation_fts WHERE cooperation_fts MATCH ?", W["search"][1]))
print("page via sort index (+c.id)", t(f"SELECT {COLS} FROM cooperation c WHERE +c.id IN (SELECT p.cooperation_id FROM cooperation_partner p WHERE p.organization_id IN (?)) ORDER BY c.sort_title, c.id LIMIT 51", p))

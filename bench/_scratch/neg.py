import asyncio, sys, importlib.util
spec = importlib.util.spec_from_file_location("cat", "bench/catalogue.py"); cat = importlib.util.module_from_spec(spec); sys.modules["cat"] = cat; spec.loader.exec_module(cat)
mode = sys.argv[1]
if mode == "hidden":
    cat.SQLITE_DOCUMENT = cat.SQLITE_DOCUMENT.replace("AND k.state = 'PUBLIC'", "")
    cat.POSTGRES_DOCUMENT = cat.POSTGRES_DOCUMENT.replace("AND k.state = 'PUBLIC'", "")
elif mode == "order":
    cat.SQLITE_DOCUMENT = cat.SQLITE_DOCUMENT.replace("ORDER BY p.position, p.id", "ORDER BY p.id DESC")
    cat.POSTGRES_DOCUMENT = cat.POSTGRES_DOCUMENT.replace("ORDER BY p.position, p.id", "ORDER BY p.id DESC")
elif mode == "rows":
    cat.SQLITE_DOCUMENT = cat.SQLITE_DOCUMENT.replace("FROM shown ORDER BY sort_title, id)", "FROM shown ORDER BY sort_title, id DESC)")
    cat.POSTGRES_DOCUMENT = cat.POSTGRES_DOCUMENT.replace('ORDER BY c.sort_title COLLATE "C", c.id', 'ORDER BY c.sort_title COLLATE "C", c.id DESC')
sys.argv = ["x", "--sizes", "3000", "--repeat", "1"] + sys.argv[2:]
try:
    asyncio.run(cat.main())
except SystemExit as e:
    print("EXIT:", e)

"""The HTTP and command-line entry: it sits above the domain (`service`) and its GraphQL face (`schema`).

Only this package may import both; `service` never imports `schema` (tests/test_seed_and_structure.py checks it).
"""

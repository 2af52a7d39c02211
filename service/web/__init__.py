"""HTTP entry point: the Starlette app that serves GraphQL and the activation page.

This package is the composition root: it is the one place in `service` that
imports the GraphQL layer (`schema`), to mount it.
"""

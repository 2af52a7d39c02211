"""The GraphQL face of the service: types and resolvers that call `service` functions.

Layout follows the domains (catalogue, accounts, approvals, mail), each with its
types, queries/mutations and loaders; `schema.graphql` is the exported SDL, kept
in sync by a test.
"""

from schema.build import build_schema

__all__ = ["build_schema"]

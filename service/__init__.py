"""The IKZ cooperation database: domain logic, persistence and the HTTP/CLI entry points.

The domain packages (catalogue, accounts, approvals, mail, audit) never import the
GraphQL layer in `schema/`; only the composition root (`service.web.app`, `service.cli`)
wires the two together.
"""

"""The IKZ cooperation database: the domain (catalogue, accounts, approvals, mail, audit) and its persistence.

It never imports the GraphQL layer in `schema/`; the HTTP and CLI entry in `ikz/` wires the two together.
"""

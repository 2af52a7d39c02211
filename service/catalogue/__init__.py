"""The public catalogue: organisations, cooperations, topic fields, legal forms, contacts."""

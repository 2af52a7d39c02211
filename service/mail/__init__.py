"""Mail: one way to send — enqueue in the outbox inside the caller's transaction; one worker delivers."""

"""Attack tests: each module replays one finding of a security review against the real app."""

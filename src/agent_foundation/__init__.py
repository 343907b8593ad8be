"""agent-foundation: the platform side of the paved road for coding agents."""

"""Live updates: the broker (in-process or Redis pub/sub), presence, the SSE stream."""

"""Business-free helpers. Nothing in here imports a closeloop feature."""

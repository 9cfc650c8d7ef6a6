"""Custom AST lint rules (DESIGN.md §2.3 and §2.8): run ``python tools/checks/run.py``."""

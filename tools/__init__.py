"""Developer tools that are not shipped with closeloop (custom lint rules, helpers)."""

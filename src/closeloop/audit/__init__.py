"""The append-only, hash-chained audit trail: every change, who made it, when and through what."""

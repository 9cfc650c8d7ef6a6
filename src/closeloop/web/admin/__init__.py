"""Admin pages (issue #6): organisation settings, admins only (team leads: their team's canned
responses). One module per area; each defines ``router``, included by ``closeloop.web``."""

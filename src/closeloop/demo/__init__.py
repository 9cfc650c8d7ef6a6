"""A realistic bilingual demo organisation, written through the ordinary use cases.

``closeloop demo seed`` calls :func:`closeloop.demo.seed.seed_demo`. The texts are demo *data*
(what customers and agents of a Chinese/English help desk write), not interface strings, so they
are not translated.
"""

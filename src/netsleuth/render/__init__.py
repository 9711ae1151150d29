"""Renderers: one module per output format and result type.

Shared pieces: :mod:`netsleuth.render.console` (the rich console, fixed
width and colourless for golden tests) and :mod:`netsleuth.render.jsonout`
(dataclasses to JSON).
"""

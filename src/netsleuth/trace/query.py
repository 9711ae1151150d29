"""Moved to :mod:`netsleuth.model.targets` (the one SRC/DST parser, used by policy/ too).

Re-exported here so imports written against the old place keep working.
"""

from netsleuth.model.targets import KIND_ALIASES, Target, close_matches, parse_target, qualify

__all__ = ["KIND_ALIASES", "Target", "close_matches", "parse_target", "qualify"]

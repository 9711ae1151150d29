"""Identifier types that must not be mixed up."""

from __future__ import annotations

from typing import NewType

NamespaceName = NewType("NamespaceName", str)
RuleId = NewType("RuleId", str)
CidrString = NewType("CidrString", str)
Labels = dict[str, str]
"""Labels of an object. Never mutated after the model is built."""

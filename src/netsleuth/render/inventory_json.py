"""``inventory -o json|yaml``: the :class:`~netsleuth.inventory.Inventory` as one document."""

from __future__ import annotations

from netsleuth.inventory import Inventory
from netsleuth.render.jsonout import dumps_json, dumps_yaml, problems_json, to_jsonable
from netsleuth.render.output import Output


def inventory_document(inv: Inventory) -> dict[str, object]:
    doc = to_jsonable(inv)
    assert isinstance(doc, dict)
    doc["problems"] = problems_json(inv.problems)
    return doc


def inventory_json(inv: Inventory, out: Output) -> None:
    out.write(dumps_json(inventory_document(inv)))


def inventory_yaml(inv: Inventory, out: Output) -> None:
    out.write(dumps_yaml(inventory_document(inv)))

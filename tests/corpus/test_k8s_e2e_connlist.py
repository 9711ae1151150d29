"""The workload connection list against the upstream e2e matrices: for every case
and step, a (src, dst) connection allowing the probed protocol/port exists exactly
when the upstream matrix says 1. (Each e2e pod is a bare pod, so a peer.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from netsleuth.model import build_model
from netsleuth.policy.connlist import connectivity

_spec = importlib.util.spec_from_file_location(
    "e2e", Path(__file__).with_name("test_k8s_e2e_netpol.py")
)
assert _spec is not None and _spec.loader is not None
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)


@pytest.mark.parametrize(("case_dir", "step", "check"), e2e._checks())
def test_connlist_matches_e2e_matrix(case_dir: Path, step: int, check: dict[str, Any]) -> None:
    model = build_model(e2e._state_after(case_dir, step))
    expected = e2e._matrix(case_dir / check["matrix_file"])
    proto, port = check["protocol"], int(check["port"])
    got = {
        (f"{c.src.namespace}/{c.src.name}", f"{c.dst.namespace}/{c.dst.name}")
        for c in connectivity(model)
        if c.src.kind == "Pod"
        and c.dst.kind == "Pod"
        and any(p == proto and port in s for p, s in c.ports)
    }
    wrong = [
        f"{s}->{d} expected {w}"
        for (s, d), w in expected.items()
        if s != d and ((s, d) in got) != w
    ]
    assert not wrong, wrong

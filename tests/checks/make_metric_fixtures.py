"""Write the bad/good fixture folders of the Prometheus metric checks.

Run ``python tests/checks/make_metric_fixtures.py``; commit what it writes.
Each folder holds the cluster of ``tests/data/metrics/cluster.yaml`` (two
Cilium nodes, CoreDNS, kube-proxy in iptables mode) and ``metrics.json``:
the answers a Prometheus gave, replayed by ``observed.py`` through
``netsleuth.sources.prometheus`` (the same parsing as a live server):

- ``absent``: series selectors Prometheus has no series for (every other
  selector a signal needs is present, two series each);
- ``breaches``: per signal, the series its thresholded query returned.

The bad folder has exactly one breach, of its check's signal; the good one
has every signal measured and none breaching. Label sets are the ones the
exporters print (node_exporter, CoreDNS, kube-proxy, kube-state-metrics,
Hubble) with ``instance`` as Prometheus sets it for a pod or node target.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from owner_chain import complete

HERE = Path(__file__).parent
CLUSTER = HERE.parent / "data" / "metrics" / "cluster.yaml"
FIXTURES = HERE / "fixtures"

# node-a is 10.0.0.11, node-b 10.0.0.12 (tests/data/metrics/cluster.yaml)
BAD: dict[str, dict[str, list[dict[str, object]]]] = {
    "CT731": {
        "conntrack_fill": [
            {"labels": {"instance": "10.0.0.12:9100", "job": "node-exporter"}, "value": 0.93}
        ]
    },
    "CT732": {
        "conntrack_insert_failed": [{"labels": {"instance": "10.0.0.11:9100"}, "value": 0.4}]
    },
    "DNS141": {"coredns_servfail": [{"labels": {"server": "dns://:53"}, "value": 0.04}]},
    "DNS142": {"coredns_forward_failures": [{"labels": {"to": "10.0.0.2:53"}, "value": 0.5}]},
    "DNS143": {"coredns_latency": [{"labels": {"server": "dns://:53"}, "value": 0.4}]},
    "DNS144": {
        "coredns_down": [
            {
                "labels": {
                    "__name__": "kube_deployment_status_replicas_available",
                    "deployment": "coredns",
                    "instance": "10.244.1.9:8080",
                    "job": "kube-state-metrics",
                    "namespace": "kube-system",
                },
                "value": 0,
            }
        ]
    },
    "KPX631": {
        "kube_proxy_sync_latency": [{"labels": {"instance": "10.0.0.11:10249"}, "value": 14.2}]
    },
    "KPX632": {
        "kube_proxy_sync_failures": [{"labels": {"instance": "node-b:10249"}, "value": 0.05}]
    },
    "CNI431": {
        "node_network_drops": [
            {
                "labels": {"device": "eth0", "instance": "10.0.0.12:9100", "job": "node-exporter"},
                "value": 350,
            }
        ]
    },
    "CNI432": {
        "hubble_datapath_drops": [
            {
                "labels": {"instance": "10.0.0.11:9965", "reason": "CT_MAP_INSERTION_FAILED"},
                "value": 12,
            }
        ]
    },
}


def main() -> int:
    for rule_id, breaches in BAD.items():
        for which, data in (("bad", breaches), ("good", {})):
            folder = FIXTURES / rule_id / which
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            # owner-chained as kubectl get -A -o yaml gives it (test_fixtures_realistic.py)
            objs = [o for o in yaml.safe_load_all(CLUSTER.read_text()) if o]
            if len(objs) == 1 and objs[0].get("kind") == "List":
                objs = list(objs[0].get("items") or [])
            (folder / "cluster.yaml").write_text(
                "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in complete(objs))
            )
            doc = {"absent": [], "breaches": data}
            (folder / "metrics.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"wrote {2 * len(BAD)} folders")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

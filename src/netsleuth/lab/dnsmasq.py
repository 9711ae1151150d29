"""dnsmasq configuration for the lab's cluster DNS (pure text).

dnsmasq stands in for CoreDNS's ``kubernetes`` plugin: it answers the
``cluster.local`` records of the model (Services, headless Services' ready
endpoints, pods' ``a-b-c-d.<ns>.pod`` names), is authoritative for the
cluster domain (``local=/cluster.local/``: an unknown cluster name is
NXDOMAIN, as CoreDNS answers), and has no upstream (``no-resolv``): the lab
never sends a query off the machine. It listens only on its pod's IP.
"""

from __future__ import annotations

from pathlib import Path

from netsleuth.facts.cluster_domain import DEFAULT_CLUSTER_DOMAIN
from netsleuth.lab.plan import LabPlan, PodPlan


def hosts_text(plan: LabPlan) -> str:
    """An ``addn-hosts`` file: one ``IP NAME`` line per A record (several lines for one
    name give several answers, as a headless Service has)."""
    lines = [f"{r.value} {r.name}" for r in plan.dns_records if r.kind == "A"]
    return "\n".join(lines) + "\n"


def conf_text(pod: PodPlan, hosts: Path, log: Path, domain: str = DEFAULT_CLUSTER_DOMAIN) -> str:
    return "\n".join(
        [
            "# netsleuth lab: cluster DNS for " + pod.key,
            "port=53",
            f"listen-address={pod.ip}",
            "bind-interfaces",
            "no-resolv",
            "no-hosts",
            "no-poll",
            f"addn-hosts={hosts}",
            f"local=/{domain}/",
            "domain-needed",
            "cache-size=0",
            "user=nobody",
            f"log-facility={log}",
            "",
        ]
    )

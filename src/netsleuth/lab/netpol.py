"""NetworkPolicy as iptables rules in a lab node's filter table, per pod.

Layout (a node has chains only for its own pods, like a CNI agent)::

    -A FORWARD -j NETSLEUTH-NP                 first, before kube-proxy's rules
    NETSLEUTH-NP: ESTABLISHED,RELATED accepted; the allow marks cleared;
        -s POD -j NETSLEUTH-E-<pod>  then  -s POD, no egress mark  -> DROP
        -d POD -j NETSLEUTH-I-<pod>  then  -d POD, no ingress mark -> DROP
    NETSLEUTH-E-<pod> / NETSLEUTH-I-<pod>: one rule per (policy rule, peer,
        port entry) that sets the direction's mark; an ipBlock with ``except``
        jumps to a NETSLEUTH-B-<hash> chain that RETURNs for the excepted
        ranges before setting the mark.

Chains exist only for pods isolated in that direction (a policy selects
them with that policyType), so a pod no policy selects is open, as the
API says. FORWARD sees packets after kube-proxy's DNAT (nat PREROUTING comes
first), so Service traffic is judged on the endpoint and its targetPort,
and bridged traffic between pods of one node is judged too
(``net.bridge.bridge-nf-call-iptables=1`` in the node namespace, as kubeadm
requires). Egress is enforced on the source's node, ingress on the
destination's.

Peers are compiled to the pod IPs they match in the model (the policy
engine's own matcher, :func:`netsleuth.policy.np_peer_mismatch`), named
ports are resolved on each destination pod (the engine's
:func:`netsleuth.policy.port_entry_set`), so the lab and the prediction share
the selector semantics and differ only in what the kernel does with them.
"""

from __future__ import annotations

from netsleuth.lab.kube_proxy import NodeRules
from netsleuth.lab.names import short_hash
from netsleuth.lab.plan import LabPlan
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import NetworkPolicy, Pod, PolicyPeer, PolicyPort
from netsleuth.policy import (
    Direction,
    PodEndpoint,
    np_peer_mismatch,
    policies_selecting,
    port_entry_set,
)

EGRESS_MARK = "0x10000"
INGRESS_MARK = "0x20000"
BOTH = "0x30000"


def _ports_args(entries: tuple[PolicyPort, ...], dst_pod: Pod | None) -> list[str] | None:
    """iptables port matches for a rule's ports on one destination; ``[""]`` means
    every port and protocol; ``None`` (or an empty list) means nothing matches."""
    if not entries:
        return [""]
    out: list[str] = []
    for e in entries:
        pes = port_entry_set(e, dst_pod)
        proto = pes.protocol.lower()
        if proto not in ("tcp", "udp", "sctp"):
            continue
        for lo, hi in pes.ports:
            if lo == 1 and hi == 65535:
                out.append(f"-p {proto}")
            elif lo == hi:
                out.append(f"-p {proto} -m {proto} --dport {lo}")
            else:
                out.append(f"-p {proto} -m {proto} --dport {lo}:{hi}")
    return out


def _comment(pol: NetworkPolicy, direction: str, i: int) -> str:
    return f'-m comment --comment "{pol.namespace}/{pol.name} {direction}[{i}]"'


def networkpolicy_rules(model: ClusterModel, plan: LabPlan, node: str, out: NodeRules) -> None:
    """Append the NetworkPolicy chains for the pods of ``node``."""
    t = "filter"
    out.chain(t, "NETSLEUTH-NP")
    out.add(t, '-A FORWARD -m comment --comment "netsleuth lab: NetworkPolicy" -j NETSLEUTH-NP')
    out.add(t, "-A NETSLEUTH-NP -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    out.add(t, f"-A NETSLEUTH-NP -j MARK --set-xmark 0x0/{BOTH}")
    model_pods = [p for p in model.pods if p.ip and not p.host_network]
    for pp in plan.pods:
        if pp.node != node:
            continue
        pod = model.pod(pp.namespace, pp.name)
        if pod is None:
            continue
        h = short_hash(pp.namespace, pp.name, n=12).upper()
        for direction, mark, flag, letter in (
            (Direction.EGRESS, EGRESS_MARK, "-s", "E"),
            (Direction.INGRESS, INGRESS_MARK, "-d", "I"),
        ):
            pols = policies_selecting(model, pod, direction)
            if not pols:
                continue
            chain = f"NETSLEUTH-{letter}-{h}"
            out.chain(t, chain)
            out.add(t, f"-A NETSLEUTH-NP {flag} {pp.ip}/32 -j {chain}")
            out.add(
                t,
                f'-A NETSLEUTH-NP {flag} {pp.ip}/32 -m mark ! --mark {mark}/{mark} -m comment --comment "{pp.key} {direction.value} not allowed" -j DROP',
            )
            for pol in pols:
                rules = pol.egress if direction is Direction.EGRESS else pol.ingress
                for i, rule in enumerate(rules):
                    _rule(
                        model,
                        out,
                        chain,
                        pol,
                        direction,
                        i,
                        rule.peers,
                        rule.ports,
                        pod,
                        model_pods,
                        mark,
                    )


def _rule(
    model: ClusterModel,
    out: NodeRules,
    chain: str,
    pol: NetworkPolicy,
    direction: Direction,
    i: int,
    peers: tuple[PolicyPeer, ...],
    ports: tuple[PolicyPort, ...],
    subject: Pod,
    model_pods: list[Pod],
    mark: str,
) -> None:
    t = "filter"
    egress = direction is Direction.EGRESS
    other_flag = "-d" if egress else "-s"
    comment = _comment(pol, direction.value, i)
    setmark = f"-j MARK --set-xmark {mark}/{mark}"
    if not peers:
        # Every peer. Egress ports are resolved on each destination: named ports
        # need the destination pod, so they are written per pod; numbers for all.
        if egress and any(isinstance(e.port, str) and not e.port.isdigit() for e in ports):
            for other in model_pods:
                for pa in _ports_args(ports, other) or []:
                    out.add(
                        t,
                        f"-A {chain} {other_flag} {other.ip}/32 {pa} {comment} {setmark}".replace(
                            "  ", " "
                        ),
                    )
            numeric = tuple(
                e for e in ports if not (isinstance(e.port, str) and not e.port.isdigit())
            )
            if not numeric:
                return
            ports = numeric
        for pa in _ports_args(ports, None if egress else subject) or []:
            out.add(t, f"-A {chain} {pa} {comment} {setmark}".replace("  ", " "))
        return
    for peer in peers:
        if peer.ip_block is not None:
            block = peer.ip_block
            target = setmark
            if block.except_:
                bchain = "NETSLEUTH-B-" + short_hash(block.cidr, *block.except_, mark, n=12).upper()
                if bchain not in out.chains.get(t, []):
                    out.chain(t, bchain)
                    for ex in block.except_:
                        out.add(t, f"-A {bchain} {other_flag} {ex} -j RETURN")
                    out.add(t, f"-A {bchain} {setmark}")
                target = f"-j {bchain}"
            named = any(isinstance(e.port, str) and not e.port.isdigit() for e in ports)
            if egress and named:
                # named ports only resolve on pods inside the block
                for other in model_pods:
                    if np_peer_mismatch(model, pol, peer, PodEndpoint(other)) is None:
                        for pa in _ports_args(ports, other) or []:
                            out.add(
                                t,
                                f"-A {chain} {other_flag} {other.ip}/32 {pa} {comment} {target}".replace(
                                    "  ", " "
                                ),
                            )
                continue
            for pa in _ports_args(ports, None if egress else subject) or []:
                out.add(
                    t,
                    f"-A {chain} {other_flag} {block.cidr} {pa} {comment} {target}".replace(
                        "  ", " "
                    ),
                )
            continue
        for other in model_pods:
            if np_peer_mismatch(model, pol, peer, PodEndpoint(other)) is not None:
                continue
            for pa in _ports_args(ports, other if egress else subject) or []:
                out.add(
                    t,
                    f"-A {chain} {other_flag} {other.ip}/32 {pa} {comment} {setmark}".replace(
                        "  ", " "
                    ),
                )

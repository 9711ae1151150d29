"""DNS110: CoreDNS can forward queries back to itself (a forwarding loop)."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import corefile
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


def _is_loopback(ns: str) -> bool:
    return ns.startswith("127.") or ns == "::1"


@register(
    id="DNS110", layer=Layer.DNS, severity=Severity.WARNING, needs=Needs(kinds=("ConfigMap",))
)
def corefile_loop_risk(model: ClusterModel) -> Iterator[Finding]:
    """CoreDNS forwards to /etc/resolv.conf where nodes use a loopback stub resolver, or lacks `loop`.

    What it checks: the root block has `forward . /etc/resolv.conf` and the
    nodes' resolv.conf (node files) lists a loopback nameserver such as the
    systemd-resolved stub 127.0.0.53 (warning); or the root block forwards to
    `/etc/resolv.conf` without the `loop` plugin that detects loops (info).

    Why it breaks traffic: CoreDNS inherits the resolv.conf kubelet gives it
    (kubelet `--resolv-conf`, the node's /etc/resolv.conf unless set). A
    127.0.0.53 nameserver inside the CoreDNS pod is CoreDNS's own loopback,
    so it forwards external queries to itself. With `loop` it detects this
    and exits (CrashLoopBackOff, DNS down); without it queries bounce until
    they time out and memory grows until OOMKilled. kubeadm points kubelet at
    /run/systemd/resolve/resolv.conf when it sees systemd-resolved; check
    which file kubelet uses before changing anything.

    Example:
      # node /etc/resolv.conf
      nameserver 127.0.0.53
      # Corefile
      forward . /etc/resolv.conf

    Fix: set kubelet `resolvConf: /run/systemd/resolve/resolv.conf` (the
    real upstreams) on those nodes, or forward to explicit upstream IPs; keep
    the `loop` plugin in the root block.

    Confirm live:
      kubectl logs -n kube-system -l k8s-app=kube-dns | grep -i loop
      kubectl get --raw /api/v1/nodes/<node>/proxy/configz | grep -o '"resolvConf":"[^"]*"'

    References:
      https://coredns.io/plugins/loop/#troubleshooting-loops-in-kubernetes-clusters
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/#known-issues
    """
    cf = corefile(model)
    if cf is None:
        return
    fwd = cf.get("forward")
    if fwd is None or "/etc/resolv.conf" not in fwd.args[1:]:
        return
    cm = cf.config_map
    stub_nodes = sorted(
        node
        for node, art in model.node_artifacts.items()
        if art.resolv_conf is not None
        and any(_is_loopback(ns) for ns in art.resolv_conf.nameservers)
    )
    fwd_ev = Evidence(
        ref("ConfigMap", cm.meta),
        f"data.Corefile line {fwd.line}",
        " ".join(("forward", *fwd.args)),
    )
    if stub_nodes:
        art = model.node_artifacts[stub_nodes[0]]
        ns = next(
            n for n in (art.resolv_conf.nameservers if art.resolv_conf else ()) if _is_loopback(n)
        )
        shown = ", ".join(stub_nodes[:5]) + (
            f" and {len(stub_nodes) - 5} more" if len(stub_nodes) > 5 else ""
        )
        yield finding(
            "DNS110",
            model,
            kind="ConfigMap",
            meta=cm.meta,
            artifacts=True,
            message=f"Forwarding loop risk: CoreDNS forwards to /etc/resolv.conf and node(s) {shown} use the "
            f"loopback resolver {ns}; if kubelet passes that file to pods, CoreDNS forwards to itself.",
            evidence=[fwd_ev, Evidence(f"Node/{stub_nodes[0]}", "resolv.conf nameserver", ns)],
            confirm=(
                kubectl("logs", "-n", "kube-system", "-l", "k8s-app=kube-dns").pipe(
                    "grep", "-i", "loop"
                ),
                kubectl("get", "--raw", f"/api/v1/nodes/{stub_nodes[0]}/proxy/configz"),
            ),
            fix=Fix(
                text="Point kubelet resolvConf at /run/systemd/resolve/resolv.conf on those nodes, "
                "or forward to explicit upstream resolvers; keep the `loop` plugin."
            ),
        )
    elif not cf.has("loop"):
        yield finding(
            "DNS110",
            model,
            kind="ConfigMap",
            meta=cm.meta,
            severity=Severity.INFO,
            message="The Corefile forwards to /etc/resolv.conf without the `loop` plugin: a forwarding "
            "loop would go undetected and burn CPU and memory instead of failing fast.",
            evidence=[
                fwd_ev,
                Evidence(ref("ConfigMap", cm.meta), "data.Corefile[.:53]", "no loop plugin"),
            ],
            confirm=(
                kubectl(
                    "get",
                    "configmap",
                    "coredns",
                    "-n",
                    "kube-system",
                    "-o",
                    "jsonpath={.data.Corefile}",
                ),
            ),
            fix=Fix(text="Add `loop` to the root server block of the Corefile."),
        )

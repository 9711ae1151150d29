"""DNS115: a pod calls a Service by short name that only exists in another namespace."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.facts.cluster_domain import cluster_domain
from netsleuth.facts.kube_dns import pod_resolver
from netsleuth.facts.ownership import workload_subject
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

# A URL whose host is a single label: http://payments:8080/x, grpc://cart
_SHORT_URL = re.compile(
    r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/\s]*@)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(?::\d+)?(?:/|$)"
)


@register(
    id="DNS115",
    layer=Layer.DNS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Pod", "Service")),
    config=True,
)
def short_name_other_namespace(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """A pod calls a Service by its short name, but that Service exists only in another namespace.

    What it checks: URLs in env values, args and commands whose host is a
    single label (`http://payments:8080`) in pods using cluster DNS, where no
    Service of that name exists in the pod's own namespace but one exists in
    another namespace. Only judged when the input holds Services of the
    pod's namespace or the name's Service elsewhere (a dump, not one file).

    Why it breaks traffic: the search list kubelet writes covers only the
    pod's own namespace (`<ns>.svc.cluster.local svc.cluster.local
    cluster.local`). `payments` becomes `payments.web.svc.cluster.local`
    (NXDOMAIN), `payments.svc.cluster.local`, `payments.cluster.local`, then
    `payments.` upstream: every candidate fails with "no such host". Typical
    after a Service moved namespace.

    Example:
      env:
      - name: PAYMENTS_URL
        value: http://payments:8080     # Service is payments.payments-system

    Fix: use `<service>.<namespace>` (or the full
    `<service>.<namespace>.svc.cluster.local.`) in the URL, or create an
    ExternalName alias in the client's namespace.

    Confirm live:
      kubectl exec -n <ns> <pod> -- nslookup <name>
      kubectl get svc -A --field-selector metadata.name=<name>

    References:
      https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#namespaces-of-services
    """
    by_name: dict[str, list[str]] = defaultdict(list)
    for svc in model.services:
        by_name[svc.name].append(svc.namespace)
    domain = cluster_domain(model, config.cluster_domain)
    seen: set[tuple[str, str, str]] = set()
    for pod in model.pods:
        owner = model.owner(pod)
        key = (owner.kind, owner.namespace, owner.name)
        if key in seen:
            continue
        seen.add(key)
        if pod_resolver(model, pod, domain) is None:
            continue
        hits: list[tuple[str, str, str]] = []
        for c in pod.spec.containers:
            for where, value in [
                *((f"env {k}", v) for k, v in c.env if v),
                *(("args", a) for a in (*c.command, *c.args)),
            ]:
                for token in value.split():
                    m = _SHORT_URL.match(token)
                    if m is None:
                        continue
                    name = str(m.group(1))
                    elsewhere = [ns for ns in by_name.get(name, ()) if ns != pod.namespace]
                    if model.service(pod.namespace, name) is not None or not elsewhere:
                        continue
                    hits.append((name, f"spec.containers[{c.name}].{where}", token))
        if not hits:
            continue
        kind, wmeta = workload_subject(model, pod)
        name, field, token = hits[0]
        namespaces = sorted(set(by_name[name]) - {pod.namespace})
        fqdn = f"{name}.{namespaces[0]}"
        yield finding(
            "DNS115",
            model,
            kind=kind,
            meta=wmeta,
            also=(pod.meta,),
            message=f"{kind} {wmeta.namespace}/{wmeta.name} calls {token} but there is no Service {name!r} in "
            f"{pod.namespace}; it exists in {', '.join(namespaces)}. The search list covers only "
            f"{pod.namespace}, so the name does not resolve (NXDOMAIN).",
            evidence=[
                Evidence(f"Pod/{pod.namespace}/{pod.name}", field, token),
                *(Evidence(f"Service/{ns}/{name}", "exists", "yes") for ns in namespaces[:2]),
                Evidence(f"Namespace/{pod.namespace}", f"Service {name}", "absent"),
            ],
            confirm=(kubectl("exec", "-n", pod.namespace, pod.name, "--", "nslookup", name),),
            fix=Fix(text=f"Call {fqdn} (or {fqdn}.svc.{domain}.) instead of {name}."),
        )

"""Derived cluster facts: the one home of everything computed from the model that
more than one analysis needs (cluster DNS and pod resolvers, CNI and policy
enforcement, overlay and MTU arithmetic, kube-proxy mode and rules, CIDRs and
IPAM, Service backends, mesh membership, Ingress references, workload
ownership).

``checks`` and ``trace`` both read these facts and never each other, so a scan
and a trace of the same cluster cannot disagree. This layer sits between
``policy`` and its users; it never imports ``checks``, ``trace`` or anything
above them (import-linter enforces it).
"""

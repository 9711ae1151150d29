"""The lab: a cluster's dataplane built from network namespaces on one Linux host.

``plan`` (model -> what to build, pure), ``kube_proxy`` and ``netpol`` (the
iptables rules, pure text), ``dnsmasq`` (DNS configuration), ``build``
(up/down/status), ``faults`` (``lab inject``), ``capture`` (node evidence),
``state`` (the state file), ``names`` (the prefix rules that keep labs
apart and cleanable). ``host`` is the only module that runs commands;
``responder`` is the pods' applications, run as its own process.
"""

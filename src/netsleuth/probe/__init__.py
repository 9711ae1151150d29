"""Active probes: real packets from a pod, in a lab or a live cluster.

Only this package (and the lab's host module) runs processes or opens
sockets. ``agent`` is the code that runs inside the pod; the runners put it
there (``lab_runner``: ``ip netns exec``; ``live``: an ephemeral debug
container, a probe pod or a DaemonSet); ``plan`` turns a SRC/DST question
into what the agent sends; ``report`` reads what came back into hops;
``conformance`` compares the policy engine's verdicts with what the packets did.
"""

"""The hop-by-hop path tracer (``netsleuth trace``)."""

from netsleuth.trace.result import Hop, TraceQuery, TraceResult
from netsleuth.trace.tracer import trace

__all__ = ["Hop", "TraceQuery", "TraceResult", "trace"]

"""``loopml demo``: the whole loop on a real, time-ordered dataset (NYC flights 2013)."""

from loopml.demo._flights import DemoFiles, load_flights, write_demo_files
from loopml.demo._scenario import DemoSummary, run_demo, send_traffic

__all__ = [
    "DemoFiles",
    "DemoSummary",
    "load_flights",
    "run_demo",
    "send_traffic",
    "write_demo_files",
]

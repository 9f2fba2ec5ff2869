"""Tracking: runs with params, metrics, tags and artifacts, recorded in the metadata store.

Log calls are committed in batches by a per-process background writer; see
:mod:`loopml.tracking._writer` for the durability contract and the loss window on a hard kill.
"""

from loopml.tracking._compare import RunComparison, compare_runs
from loopml.tracking._environment import environment_tags, git_state, package_versions
from loopml.tracking._run import ActiveRun, start_run
from loopml.tracking._writer import BackgroundWriter, default_writer

__all__ = [
    "ActiveRun",
    "BackgroundWriter",
    "RunComparison",
    "compare_runs",
    "default_writer",
    "environment_tags",
    "git_state",
    "package_versions",
    "start_run",
]

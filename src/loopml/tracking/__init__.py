"""Tracking: runs with params, metrics, tags and artifacts, recorded in the metadata store."""

from loopml.tracking._environment import environment_tags, git_state, package_versions
from loopml.tracking._run import ActiveRun, start_run

__all__ = ["ActiveRun", "environment_tags", "git_state", "package_versions", "start_run"]

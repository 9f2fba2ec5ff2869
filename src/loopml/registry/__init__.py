"""The model registry: versions, aliases (``champion``, ``challenger``, custom) and loading."""

from loopml.registry._ref import CHALLENGER, CHAMPION, ModelRef
from loopml.registry._registry import Registry, dump_bundle, load_bundle

__all__ = ["CHALLENGER", "CHAMPION", "ModelRef", "Registry", "dump_bundle", "load_bundle"]

"""``loopml serve``: the registry behind the serving app, with alias changes picked up live."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from fastapi import FastAPI

from loopml.errors import LoopmlError
from loopml.project._project import Project
from loopml.registry import CHAMPION, Registry
from loopml.serve import (
    BackgroundPredictionLogger,
    LoadedModel,
    ModelResolver,
    create_app,
    unknown_model_error,
)


class RegistryResolver(ModelResolver):
    """Serves registry references under names, e.g. ``{"churn": "churn@champion"}``.

    Every reference is loaded (and its artifact hash verified) at construction and on
    :meth:`refresh`; a reference that fails to load is remembered with its error, so the other
    models keep serving and ``/ready`` can say which failed. A refresh swaps the whole table in one
    assignment, so a request never sees a half-updated table.
    """

    def __init__(self, registry: Registry, refs: Mapping[str, str]) -> None:
        self._registry = registry
        self._refs = dict(refs)
        self._lock = threading.Lock()
        self._table: dict[str, LoadedModel | LoopmlError] = {}
        self.refresh()

    def resolve(self, name: str) -> LoadedModel:
        entry = self._table.get(name)
        if entry is None:
            raise unknown_model_error(name, self.names())
        if isinstance(entry, LoopmlError):
            raise entry
        return entry

    def names(self) -> list[str]:
        return sorted(self._refs)

    def refresh(self) -> None:
        with self._lock:
            table = dict(self._table)
            for name, ref in self._refs.items():
                table[name] = self._load(name, ref, table.get(name))
            self._table = table

    def _load(
        self, name: str, ref: str, current: LoadedModel | LoopmlError | None
    ) -> LoadedModel | LoopmlError:
        try:
            version = self._registry.get(ref)
            if isinstance(current, LoadedModel) and current.version == version.version:
                return current
            _version, bundle = self._registry.load(f"{version.name}:{version.version}")
            return LoadedModel(name=name, version=version.version, bundle=bundle)
        except LoopmlError as exc:
            if isinstance(current, LoadedModel):
                return current
            return exc


def build_app(
    project: Project,
    *,
    models: Mapping[str, str] | None = None,
    log_predictions: bool = True,
    refresh_interval: float = 5.0,
) -> FastAPI:
    """The serving app of ``project``: by default its champion under the project's name.

    Predictions are logged to the project's store by a background writer (flushed on shutdown);
    aliases are re-resolved every ``refresh_interval`` seconds so a promotion takes effect without
    a restart.
    """
    refs = dict(models or {project.name: f"{project.name}@{CHAMPION}"})
    resolver = RegistryResolver(project.registry, refs)
    sink = BackgroundPredictionLogger(project.store) if log_predictions else None
    return create_app(
        resolver, sink, refresh_interval=refresh_interval if refresh_interval > 0 else None
    )

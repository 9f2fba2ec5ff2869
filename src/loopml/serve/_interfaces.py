"""The two small interfaces the serving app depends on: where models come from, where logs go.

The app never looks models up or writes logs itself; it is given a :class:`ModelResolver` and,
optionally, a :class:`PredictionSink`. The registry provides the production resolver; tests and
simple scripts use :class:`StaticResolver`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from loopml.errors import InvalidInputError, NotFoundError
from loopml.serve._compiled_predictor import Predictor, build_predictor
from loopml.serve._schema import RequestSchema, build_request_schema
from loopml.store._records import PredictionRecord
from loopml.train._bundle import ModelBundle

MAX_BACKGROUND_ROWS = 200


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model version ready to serve: its bundle plus what is compiled once at load time.

    Construct it once per loaded version (``LoadedModel(name, version, bundle)``); the request
    schema and column order are built in ``__post_init__`` so the request path does no such work.
    So is the explanation background: ``background`` (typical rows, e.g. the holdout) is cut
    to a fixed sample of at most :data:`MAX_BACKGROUND_ROWS` rows once, here.

    Attributes:
        name: the served name (the path segment in ``/v1/models/{name}/predict``).
        version: the registry version number.
        bundle: the fitted model and its data contract.
        schema: the compiled request schema (derived from ``bundle.contract``).
        background: the reference rows of ``?explain=true`` for linear models (None: tree
            models explain without one; linear ones then refuse to explain); also the rows the
            compiled predictor is verified on.
        backend: ``sklearn`` (compiled numpy code, else the pipeline) or ``onnx`` (ONNX
            Runtime, else sklearn).
        predictor: what scores requests, chosen and verified at load time (see
            :func:`~loopml.serve._compiled_predictor.build_predictor`).

    Raises:
        InvalidInputError: the bundle's contract cannot be turned into a request schema.
    """

    name: str
    version: int
    bundle: ModelBundle
    schema: RequestSchema = field(init=False, repr=False)
    background: pd.DataFrame | None = field(default=None, repr=False)
    backend: str = field(default="sklearn", repr=False)
    predictor: Predictor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schema", build_request_schema(self.name, self.bundle.contract))
        if self.background is not None and len(self.background) > MAX_BACKGROUND_ROWS:
            sample = self.background.sample(n=MAX_BACKGROUND_ROWS, random_state=0)
            object.__setattr__(self, "background", sample)
        predictor = build_predictor(
            self.bundle, self.schema, self.background, self.backend, self.ref
        )
        object.__setattr__(self, "predictor", predictor)

    @property
    def ref(self) -> str:
        """``name:version``, how responses and logs name the model."""
        return f"{self.name}:{self.version}"


class ModelResolver(abc.ABC):
    """Maps served names to loaded models.

    Contract:
    - :meth:`resolve` is called on every request: it must be fast and in-memory (no I/O); loading
      happens at construction and in :meth:`refresh`.
    - All methods are safe to call from several threads at once; a request that resolved a model
      keeps using it even if :meth:`refresh` swaps it out meanwhile.
    """

    @abc.abstractmethod
    def resolve(self, name: str) -> LoadedModel:
        """The model served as ``name``.

        Raises:
            NotFoundError: no model is served under ``name`` (the hint lists the known names).
            LoopmlError: the model is known but could not be loaded (its message says why).
        """

    @abc.abstractmethod
    def names(self) -> list[str]:
        """Every served name, sorted (including ones whose loading failed)."""

    @abc.abstractmethod
    def refresh(self) -> None:
        """Re-resolve aliases and load changed versions so swaps take effect without a restart.

        Raises:
            LoopmlError: the source of models cannot be read; the models served so far stay.
        """


class PredictionSink(abc.ABC):
    """Where served predictions are logged.

    Contract: :meth:`submit` never blocks on storage (it may drop records when overwhelmed, and
    says so in its documentation); :meth:`close` writes everything accepted so far and then
    releases resources. Both are safe to call from several threads.
    """

    @abc.abstractmethod
    def submit(self, records: Sequence[PredictionRecord]) -> None:
        """Hand records over for logging, without waiting for them to be stored."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush every accepted record to storage and stop; later submits are dropped."""


class StaticResolver(ModelResolver):
    """A fixed set of models, keyed by served name (for tests and simple scripts).

    Raises:
        InvalidInputError: a key differs from its model's ``name``.
    """

    def __init__(self, models: Mapping[str, LoadedModel]) -> None:
        for key, model in models.items():
            if key != model.name:
                raise InvalidInputError(
                    f"The model {model.ref} is registered under the name {key!r}.",
                    hint="Use each model's own name as its key.",
                )
        self._models = dict(models)

    def resolve(self, name: str) -> LoadedModel:
        try:
            return self._models[name]
        except KeyError:
            raise unknown_model_error(name, self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._models)

    def refresh(self) -> None:
        """Nothing to re-resolve: the models are fixed."""


def unknown_model_error(name: str, known: Sequence[str]) -> NotFoundError:
    """The error for a request naming a model that is not served (shared by resolvers)."""
    hint = f"Known models: {', '.join(known)}." if known else "This server serves no models."
    return NotFoundError(f"No model named {name!r} is served.", hint=hint)

"""Hyperparameter spaces as plain data, and their translation to Optuna.

A family's search space is a dict of :class:`IntRange`, :class:`FloatRange` and :class:`Choice`;
:func:`suggest` samples one configuration from an Optuna trial, :func:`distributions` gives the
matching Optuna distributions (to add an already evaluated configuration to a study) and
:func:`grid` a small grid for the grid sampler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import optuna

GRID_POINTS = 3
"""Values per numeric range in a grid search: low, middle (geometric when ``log``) and high."""


@dataclass(frozen=True)
class IntRange:
    """Integers from ``low`` to ``high`` inclusive, sampled on a log scale when ``log``."""

    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class FloatRange:
    """Floats from ``low`` to ``high``, sampled on a log scale when ``log``."""

    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Choice:
    """One of ``choices``."""

    choices: tuple[Any, ...]


Param = IntRange | FloatRange | Choice
ParamSpace = dict[str, Param]


def suggest(trial: optuna.Trial, space: ParamSpace) -> dict[str, Any]:
    """One configuration of ``space`` sampled by ``trial``."""
    params: dict[str, Any] = {}
    for name, param in space.items():
        if isinstance(param, IntRange):
            params[name] = trial.suggest_int(name, param.low, param.high, log=param.log)
        elif isinstance(param, FloatRange):
            params[name] = trial.suggest_float(name, param.low, param.high, log=param.log)
        else:
            params[name] = trial.suggest_categorical(name, param.choices)
    return params


def distributions(space: ParamSpace) -> dict[str, optuna.distributions.BaseDistribution]:
    """The Optuna distribution of each parameter of ``space``."""
    out: dict[str, optuna.distributions.BaseDistribution] = {}
    for name, param in space.items():
        if isinstance(param, IntRange):
            out[name] = optuna.distributions.IntDistribution(param.low, param.high, log=param.log)
        elif isinstance(param, FloatRange):
            out[name] = optuna.distributions.FloatDistribution(param.low, param.high, log=param.log)
        else:
            out[name] = optuna.distributions.CategoricalDistribution(param.choices)
    return out


def contains(space: ParamSpace, params: dict[str, Any]) -> bool:
    """Whether every parameter of ``space`` is in ``params`` with a value inside its range."""
    for name, param in space.items():
        if name not in params:
            return False
        value = params[name]
        if isinstance(param, Choice):
            if value not in param.choices:
                return False
        elif not (isinstance(value, int | float) and param.low <= value <= param.high):
            return False
    return True


def grid(space: ParamSpace) -> dict[str, list[Any]]:
    """A grid over ``space``: every choice, and :data:`GRID_POINTS` values per range."""
    out: dict[str, list[Any]] = {}
    for name, param in space.items():
        if isinstance(param, Choice):
            out[name] = list(param.choices)
            continue
        low, high = float(param.low), float(param.high)
        middle = math.sqrt(low * high) if param.log else (low + high) / 2
        values = [low, middle, high]
        if isinstance(param, IntRange):
            out[name] = sorted({round(v) for v in values})
        else:
            out[name] = values
    return out

"""Routing policies: small callable objects that choose the model arm(s) serving a record.

A deployment's stored policy (a JSON dict, see :func:`compile_policy`) is compiled once into a
:class:`RoutingPolicy` plus the model reference of each arm; the request path only calls
:meth:`RoutingPolicy.choose`, which does no I/O.
"""

from __future__ import annotations

import abc
import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loopml.errors import InvalidInputError

SHADOW_SUFFIX = ".shadow"
"""Appended to a request id to name the shadow arm's prediction of the same record."""


@dataclass(frozen=True)
class Route:
    """Where one record goes: the arm that answers, and an arm that sees a mirrored copy."""

    arm: str
    mirror: str | None = None


class RoutingPolicy(abc.ABC):
    """Chooses the arm answering a record.

    Contract: :meth:`choose` is fast, does no I/O, and is safe to call from several threads;
    ``key`` names the request field whose value makes the choice sticky (None: not sticky).
    """

    key: str | None = None

    @abc.abstractmethod
    def choose(self, key_value: Any = None) -> Route:
        """The route of one record (``key_value``: its value of :attr:`key`, when sticky)."""


class FixedPolicy(RoutingPolicy):
    """Every record goes to one arm (single deployments, the live colour of blue-green)."""

    def __init__(self, arm: str) -> None:
        self._route = Route(arm)

    def choose(self, key_value: Any = None) -> Route:
        return self._route


class WeightedPolicy(RoutingPolicy):
    """Each record goes to ``candidate`` with probability ``weight``, else to ``stable``."""

    def __init__(self, stable: str, candidate: str, weight: float, seed: int | None = None) -> None:
        self._stable, self._candidate = Route(stable), Route(candidate)
        self._weight = weight
        self._random = random.Random(seed)

    def choose(self, key_value: Any = None) -> Route:
        return self._candidate if self._random.random() < self._weight else self._stable


class ShadowPolicy(RoutingPolicy):
    """``primary`` answers; a ``fraction`` of records is mirrored to ``shadow`` as well."""

    def __init__(self, primary: str, shadow: str, fraction: float, seed: int | None = None) -> None:
        self._plain, self._mirrored = Route(primary), Route(primary, mirror=shadow)
        self._fraction = fraction
        self._random = random.Random(seed)

    def choose(self, key_value: Any = None) -> Route:
        return self._mirrored if self._random.random() < self._fraction else self._plain


class StickySplitPolicy(RoutingPolicy):
    """Assigns by a hash of the ``key`` field's value, so one customer always sees one arm.

    ``split`` maps arms to shares summing to 1; a record without a key value goes to the first.
    """

    def __init__(self, key: str, split: Mapping[str, float]) -> None:
        self.key = key
        self._bounds: list[tuple[float, Route]] = []
        total = 0.0
        for arm, share in split.items():
            total += share
            self._bounds.append((total, Route(arm)))

    def choose(self, key_value: Any = None) -> Route:
        if key_value is None:
            return self._bounds[0][1]
        digest = hashlib.blake2b(str(key_value).encode(), digest_size=8).digest()
        point = int.from_bytes(digest, "big") / 2.0**64
        for bound, route in self._bounds:
            if point < bound:
                return route
        return self._bounds[-1][1]


class ThompsonPolicy(RoutingPolicy):
    """Thompson sampling: draws each arm's Beta(alpha, beta) posterior and takes the best.

    With probability ``floor * k`` (``k`` arms) the arm is drawn uniformly instead, so each arm
    keeps at least ``floor`` of the traffic (exploration never stops).
    """

    def __init__(
        self,
        posteriors: Mapping[str, tuple[float, float]],
        seed: int | None = None,
        floor: float = 0.0,
    ):
        self._arms = [(Route(arm), a, b) for arm, (a, b) in posteriors.items()]
        self._explore = floor * len(self._arms)
        self._random = random.Random(seed)

    def choose(self, key_value: Any = None) -> Route:
        if self._random.random() < self._explore:
            return self._random.choice(self._arms)[0]
        draws = [(self._random.betavariate(a, b), route) for route, a, b in self._arms]
        return max(draws, key=lambda pair: pair[0])[1]


def compile_policy(spec: Mapping[str, Any]) -> tuple[RoutingPolicy, dict[str, str]]:
    """The routing policy and ``{arm: model reference}`` of a stored deployment policy.

    Stored shapes (``kind`` first; finished canaries and A/B tests route to one arm):

    - ``{"kind": "single", "model": REF}``
    - ``{"kind": "blue-green", "live": "blue"|"green", "blue": REF, "green": REF|None}``
    - ``{"kind": "canary", "stable": REF, "candidate": REF, "weight": w, "status": s, ...}``
    - ``{"kind": "shadow", "primary": REF, "shadow": REF, "fraction": f}``
    - ``{"kind": "ab", "a": REF, "b": REF, "split": share_of_b, "key": FIELD, "status": s, ...}``
    - ``{"kind": "bandit", "arms": {ARM: REF}, "posteriors": {ARM: [alpha, beta]}, "floor": f,
      "reward": "correct"|"label", "allocation": {ARM: share}, "status": "running", ...}``

    Raises:
        InvalidInputError: the kind is unknown or a required member is missing.
    """
    try:
        return _compile(spec)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The deployment policy {dict(spec)!r} is malformed ({type(exc).__name__}: {exc}).",
            hint="Create deployments with `loopml deploy …` rather than by hand.",
        ) from None


def _compile(spec: Mapping[str, Any]) -> tuple[RoutingPolicy, dict[str, str]]:
    kind = spec["kind"]
    if kind == "single":
        return FixedPolicy("model"), {"model": str(spec["model"])}
    if kind == "blue-green":
        arms = {c: str(spec[c]) for c in ("blue", "green") if spec.get(c)}
        live = str(spec["live"])
        if live not in arms:
            raise ValueError(f"the live colour {live!r} has no model")
        return FixedPolicy(live), arms
    if kind == "canary":
        arms = {"stable": str(spec["stable"]), "candidate": str(spec["candidate"])}
        status = spec.get("status", "running")
        if status == "rolled_back":
            return FixedPolicy("stable"), arms
        if status == "promoted":
            return FixedPolicy("candidate"), arms
        return WeightedPolicy("stable", "candidate", float(spec["weight"])), arms
    if kind == "shadow":
        arms = {"primary": str(spec["primary"]), "shadow": str(spec["shadow"])}
        return ShadowPolicy("primary", "shadow", float(spec["fraction"])), arms
    if kind == "ab":
        arms = {"a": str(spec["a"]), "b": str(spec["b"])}
        winner = spec.get("winner")
        if spec.get("status") == "concluded" and winner in arms:
            return FixedPolicy(str(winner)), arms
        share_b = float(spec["split"])
        return StickySplitPolicy(str(spec["key"]), {"a": 1.0 - share_b, "b": share_b}), arms
    if kind == "bandit":
        arms = {str(arm): str(ref) for arm, ref in spec["arms"].items()}
        posteriors = spec.get("posteriors") or {}
        beliefs = {arm: _beta(posteriors.get(arm, (1.0, 1.0))) for arm in arms}
        if not arms:
            raise ValueError("a bandit needs at least one arm")
        return ThompsonPolicy(beliefs, floor=float(spec.get("floor", 0.0))), arms
    raise ValueError(f"unknown kind {kind!r}")


def _beta(pair: Any) -> tuple[float, float]:
    alpha, beta = (float(v) for v in pair)
    if alpha <= 0 or beta <= 0:
        raise ValueError(f"Beta parameters must be positive, got {alpha}, {beta}")
    return alpha, beta

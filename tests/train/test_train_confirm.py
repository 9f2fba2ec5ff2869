"""The second look at a tuned winner: who is cross-validated again on fresh folds, and when."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from train_support import contract_for

from loopml.train import _confirm, train_candidates


def xor_frame(n: int = 300) -> pd.DataFrame:
    """A target no linear model can learn and a booster learns at once."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(n, 2))
    label = np.where(x[:, 0] * x[:, 1] > 0, "yes", "no")
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": label})


def spy_on_second_look(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[float]]:
    """What the second look computes in the next training (filled as it runs)."""
    seen: dict[str, list[float]] = {}
    original = _confirm.fresh_fold_scores

    def spy(*args: object, **kwargs: object) -> dict[str, list[float]]:
        seen.update(original(*args, **kwargs))  # type: ignore[arg-type]
        return seen

    monkeypatch.setattr("loopml.train._engine.fresh_fold_scores", spy)
    return seen


def second_look(monkeypatch: pytest.MonkeyPatch, **options: object) -> dict[str, list[float]]:
    """Train on the XOR frame; what the second look computed."""
    seen = spy_on_second_look(monkeypatch)
    frame = xor_frame()
    options = {"families": ["linear", "lightgbm"], "ensemble": False, **options}
    result = train_candidates(
        frame, contract_for(frame, "label"), task="binary", cv_folds=3, **options
    )
    assert result.best.family == "lightgbm"  # clearly better, on any folds
    return seen


def test_a_tuned_winner_and_the_simpler_models_get_fresh_folds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = second_look(monkeypatch, tune=True, trials=2)

    assert set(seen) == {"lightgbm", "linear"}
    assert all(len(scores) == 3 for scores in seen.values())
    assert np.mean(seen["lightgbm"]) > np.mean(seen["linear"]) + 0.2


def test_no_second_look_without_tuning_or_on_large_data(monkeypatch: pytest.MonkeyPatch) -> None:
    assert second_look(monkeypatch, tune=False) == {}
    monkeypatch.setattr(_confirm, "CONFIRM_MAX_ROWS", 100)
    assert second_look(monkeypatch, tune=True, trials=2) == {}


def test_the_second_look_is_reproducible_with_a_fixed_trial_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = second_look(monkeypatch, tune=True, trials=2)
    assert second_look(monkeypatch, tune=True, trials=2) == first


def test_a_blend_is_cross_validated_again_with_its_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = spy_on_second_look(monkeypatch)
    # Always keep an even blend of the two, whatever its score.
    monkeypatch.setattr("loopml.train._finish.ENSEMBLE_MARGIN", -1.0)
    monkeypatch.setattr("loopml.train._finish.within_noise", lambda *args: False)
    monkeypatch.setattr(
        "loopml.train._finish.select_weights",
        lambda oofs, score: (np.full(len(oofs), 1 / len(oofs)), 0.0),
    )
    frame = xor_frame()
    result = train_candidates(
        frame,
        contract_for(frame, "label"),
        task="binary",
        cv_folds=3,
        families=["linear", "lightgbm"],
        tune=True,
        trials=2,
        ensemble=True,
    )

    assert any(c.family == "ensemble" for c in result.candidates)
    assert set(seen) == {"lightgbm", "linear", "ensemble"}
    assert len(seen["ensemble"]) == 3
    # Half of a booster that learns XOR and half of a model that cannot: in between.
    assert np.mean(seen["linear"]) < np.mean(seen["ensemble"]) <= np.mean(seen["lightgbm"]) + 0.01

"""Retraining triggers, the charter's policy, and the data windows a retraining trains on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from loopml.charter._model import DataWindowSpec, RetrainingSpec
from loopml.errors import DataError, InvalidInputError
from loopml.retrain import (
    DriftTrigger,
    PerformanceTrigger,
    RetrainPolicy,
    ScheduleTrigger,
    cron_trigger,
    select_window,
)

NOW = datetime(2024, 5, 8, 12, tzinfo=UTC)  # a Wednesday


def test_schedule_fires_once_a_scheduled_time_has_passed_since_the_last_retraining() -> None:
    weekly = ScheduleTrigger("0 3 * * 1")  # Mondays 03:00 UTC
    assert weekly.check(None, None, NOW).fired
    monday = datetime(2024, 5, 6, 3, 0, 1, tzinfo=UTC)
    assert not weekly.check(None, monday, NOW).fired
    result = weekly.check(None, monday - timedelta(days=2), NOW)
    assert result.fired and "2024-05-06T03:00:00+00:00" in result.reason
    with pytest.raises(InvalidInputError, match="not a cron expression"):
        ScheduleTrigger("every monday")


def test_drift_fires_on_share_or_on_a_watched_feature() -> None:
    summary = {"share_drifted": 0.25, "drifted": ["tenure"]}
    assert DriftTrigger(share=0.2).check(summary, None, NOW).fired
    assert not DriftTrigger(share=0.3).check(summary, None, NOW).fired
    watched = DriftTrigger(features=["tenure", "contract"]).check(summary, None, NOW)
    assert watched.fired and watched.reason == "watched feature(s) drifted: tenure"
    assert not DriftTrigger(share=0.1).check(None, None, NOW).fired


def test_performance_respects_the_metric_direction() -> None:
    low_auc = {"estimated_roc_auc": 0.68, "realized_log_loss": 0.7}
    fired = PerformanceTrigger("estimated_roc_auc", 0.7).check(low_auc, None, NOW)
    assert fired.fired and fired.reason == "estimated_roc_auc = 0.6800, below threshold 0.7"
    assert PerformanceTrigger("realized_log_loss", 0.6).check(low_auc, None, NOW).fired
    assert not PerformanceTrigger("realized_log_loss", 0.8).check(low_auc, None, NOW).fired
    missing = PerformanceTrigger("realized_accuracy", 0.8).check(low_auc, None, NOW)
    assert not missing.fired and "has no realized_accuracy" in missing.reason


def test_policy_from_the_charter_explains_its_decision() -> None:
    spec = RetrainingSpec.model_validate(
        {
            "triggers": {
                "schedule": "0 3 * * 1",
                "drift_share": 0.5,
                "performance_metric": "estimated_roc_auc",
                "performance_threshold": 0.7,
            }
        }
    )
    policy = RetrainPolicy.from_spec(spec)
    assert [t.name for t in policy.triggers] == ["schedule", "drift", "performance"]
    quiet = {"share_drifted": 0.1, "drifted": [], "estimated_roc_auc": 0.8}
    plan = policy.evaluate(quiet, last_retrain=NOW - timedelta(hours=1), now=NOW)
    assert not plan.retrain and plan.reason.startswith("no trigger fired")
    worse = quiet | {"estimated_roc_auc": 0.65}
    plan = policy.evaluate(worse, last_retrain=NOW - timedelta(hours=1), now=NOW)
    assert plan.retrain and [t.trigger for t in plan.fired] == ["performance"]
    assert (
        plan.to_dict()["reason"] == "performance: estimated_roc_auc = 0.6500, below threshold 0.7"
    )
    on_demand = RetrainPolicy().evaluate(None, on_demand=True)
    assert on_demand.retrain and on_demand.fired[0].trigger == "on_demand"
    assert RetrainPolicy().evaluate(None).reason == "no trigger is configured"


@pytest.fixture
def rows() -> pd.DataFrame:
    times = pd.date_range("2024-01-01", periods=100, freq="D", tz="UTC")
    frame = pd.DataFrame({"when": times.astype(str), "x": range(100)})
    return frame.sample(frac=1.0, random_state=0)  # not in time order


def window(**fields: object) -> DataWindowSpec:
    return DataWindowSpec.model_validate(fields)


def test_data_windows(rows: pd.DataFrame) -> None:
    everything, said = select_window(rows, window())
    assert len(everything) == 100 and said == "all 100 rows"
    recent, said = select_window(rows, window(kind="last_days", days=10), time_column="when")
    assert sorted(recent["x"]) == list(range(89, 100))
    assert said == "the 11 rows of the last 10 days (since 2024-03-30) of 100"
    newest, _ = select_window(rows, window(kind="sliding", rows=5), time_column="when")
    assert list(newest["x"]) == [95, 96, 97, 98, 99]
    sample, said = select_window(rows, window(kind="sample", rows=30, seed=1))
    again, _ = select_window(rows, window(kind="sample", rows=30, seed=1))
    assert len(sample) == 30 and sample.equals(again) and "seed 1" in said


def test_data_window_errors(rows: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="needs a time column"):
        select_window(rows, window(kind="last_days", days=3))
    with pytest.raises(ValueError, match="needs 'rows'"):
        window(kind="sliding")
    with pytest.raises(ValueError, match="needs 'days'"):
        window(kind="last_days")


def test_cron_weekdays_follow_crontab_not_apscheduler_numbering() -> None:
    after = datetime(2024, 5, 8, tzinfo=UTC)  # Wednesday
    fire = cron_trigger("0 3 * * 1").get_next_fire_time(None, after)
    assert fire == datetime(2024, 5, 13, 3, tzinfo=UTC)  # the next Monday
    sunday = cron_trigger("30 6 * * 0").get_next_fire_time(None, after)
    assert sunday == datetime(2024, 5, 12, 6, 30, tzinfo=UTC)
    weekdays = cron_trigger("0 9 * * 1-5").get_next_fire_time(
        None, datetime(2024, 5, 11, tzinfo=UTC)
    )
    assert weekdays == datetime(2024, 5, 13, 9, tzinfo=UTC)  # Saturday -> Monday
    quarter = cron_trigger("*/15 * * * *").get_next_fire_time(None, after)
    assert quarter == after
    with pytest.raises(InvalidInputError, match="expected 5"):
        cron_trigger("* * * *")

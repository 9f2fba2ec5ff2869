"""Retraining: triggers and policies (when), data windows (on what), and the
champion/challenger promotion rule (whether the result replaces the champion)."""

from loopml.retrain._decision import Decision, decide
from loopml.retrain._policy import RetrainPlan, RetrainPolicy, select_window
from loopml.retrain._triggers import (
    DriftTrigger,
    PerformanceTrigger,
    RetrainTrigger,
    ScheduleTrigger,
    TriggerResult,
    cron_trigger,
)

__all__ = [
    "Decision",
    "DriftTrigger",
    "PerformanceTrigger",
    "RetrainPlan",
    "RetrainPolicy",
    "RetrainTrigger",
    "ScheduleTrigger",
    "TriggerResult",
    "cron_trigger",
    "decide",
    "select_window",
]

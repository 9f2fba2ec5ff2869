"""Evaluation: holdout metrics with bootstrap intervals, acceptance gates, and the report.

report = evaluate_model(bundle, holdout, model_ref="churn:3", gates=evaluate_gates(...))
report.write("reports/")            # evaluation.html + evaluation.json
"""

from loopml.evaluate._bootstrap import bootstrap_intervals
from loopml.evaluate._gates import GateResult, evaluate_gates
from loopml.evaluate._metrics import GREATER_IS_BETTER, compute_metrics
from loopml.evaluate._report import EvaluationReport, evaluate_model

__all__ = [
    "GREATER_IS_BETTER",
    "EvaluationReport",
    "GateResult",
    "bootstrap_intervals",
    "compute_metrics",
    "evaluate_gates",
    "evaluate_model",
]

"""Evaluation: holdout metrics with bootstrap intervals, acceptance gates, and the report.

report = evaluate_model(bundle, holdout, model_ref="churn:3", gates=evaluate_gates(...))
report.write("reports/")            # evaluation.html + evaluation.json
explain(bundle, rows, top=5)        # per row: [{column, value, contribution}, ...]
"""

from loopml.evaluate._bootstrap import bootstrap_intervals
from loopml.evaluate._card import ModelCard
from loopml.evaluate._explain import explain, explain_row, shap_importance
from loopml.evaluate._fairness import fairness_summary
from loopml.evaluate._gates import GateResult, evaluate_gates
from loopml.evaluate._metrics import GREATER_IS_BETTER, compute_metrics
from loopml.evaluate._paired import Comparison, compare_models, delong_test, mcnemar_test
from loopml.evaluate._report import EvaluationReport, evaluate_model
from loopml.evaluate._slices import worst_slices

__all__ = [
    "GREATER_IS_BETTER",
    "Comparison",
    "EvaluationReport",
    "GateResult",
    "ModelCard",
    "bootstrap_intervals",
    "compare_models",
    "compute_metrics",
    "delong_test",
    "evaluate_gates",
    "evaluate_model",
    "explain",
    "explain_row",
    "fairness_summary",
    "mcnemar_test",
    "shap_importance",
    "worst_slices",
]

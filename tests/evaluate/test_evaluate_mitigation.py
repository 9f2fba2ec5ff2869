"""mitigation_comparison: a ThresholdOptimizer candidate scored next to the model."""

from __future__ import annotations

import pytest
from evaluate_cases import Case

from loopml.errors import InvalidInputError
from loopml.evaluate._mitigation import check_mitigation, mitigation_comparison
from loopml.train import ModelBundle


def _with_sensitive(case: Case, *names: str) -> ModelBundle:
    contract = case.bundle.contract.model_copy(deep=True)
    for column in contract.columns:
        column.sensitive = column.name in names
    b = case.bundle
    return ModelBundle(b.pipeline, contract, b.task, b.classes, b.positive_class, family=b.family)


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds"])
def test_mitigated_candidate_narrows_its_constrained_gap(churn: Case, constraint: str) -> None:
    bundle = _with_sensitive(churn, "female", "senior_citizen")
    result = mitigation_comparison(bundle, churn.train, churn.test, constraint=constraint)
    assert result["n_rows"] == len(churn.test) and result["n_groups"] == 4
    gap = f"{constraint}_difference"
    assert result["mitigated"][gap] < result["original"][gap]
    assert result["cost"][gap] == pytest.approx(result["mitigated"][gap] - result["original"][gap])
    assert result["original"]["accuracy"] == pytest.approx(
        (churn.bundle.predict_frame(churn.test)["prediction"] == churn.test["churn"]).mean()
    )
    assert result["registered"] is False


def test_mitigation_needs_a_binary_task_with_sensitive_columns(churn: Case, diabetes: Case) -> None:
    with pytest.raises(InvalidInputError, match="marks none"):
        check_mitigation("binary", churn.bundle.contract, "demographic_parity")
    with pytest.raises(InvalidInputError, match="binary classification"):
        check_mitigation("regression", diabetes.bundle.contract, "demographic_parity")
    with pytest.raises(InvalidInputError, match="Unknown fairness constraint"):
        check_mitigation("binary", churn.bundle.contract, "parity")

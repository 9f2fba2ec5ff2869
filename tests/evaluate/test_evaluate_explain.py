"""SHAP explanations: exact for linear and tree models, in original columns, local top-k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evaluate_cases import Case

from loopml.data import infer_contract
from loopml.errors import InvalidInputError
from loopml.evaluate import explain, explain_row, shap_importance
from loopml.evaluate._shap import shap_values
from loopml.train import ModelBundle
from loopml.train._candidates import get_family


@pytest.fixture(scope="module")
def lightgbm_churn(churn: Case) -> ModelBundle:
    frame = pd.concat([churn.train, churn.test])
    contract = infer_contract(frame, target="churn")
    y = churn.train["churn"].eq("Yes").astype(int).to_numpy()
    pipeline = get_family("lightgbm").build(contract, "binary", {"n_estimators": 60})
    pipeline.fit(churn.train[contract.feature_names], y)
    return ModelBundle(pipeline, contract, "binary", ["No", "Yes"], "Yes", family="lightgbm")


def test_linear_shap_is_exact_and_sums_one_hot_fragments(churn: Case) -> None:
    rows = churn.test.iloc[:50]
    result = shap_values(churn.bundle, rows, background=churn.train)
    assert result is not None and result.method == "linear"
    assert result.columns == churn.bundle.feature_names  # original columns, not fragments
    margin = churn.bundle.pipeline.decision_function(rows[churn.bundle.feature_names])
    base = churn.bundle.pipeline.decision_function(churn.train[churn.bundle.feature_names])
    # Linear SHAP values add up to the margin minus the margin of the mean background row.
    pre, model = churn.bundle.pipeline[:-1], churn.bundle.pipeline[-1]
    mean_row = np.asarray(pre.transform(churn.train[churn.bundle.feature_names]).mean(axis=0))
    expected = margin - float(np.ravel(mean_row) @ model.coef_[0] + model.intercept_[0])
    assert result.values.sum(axis=1) == pytest.approx(expected)
    assert base.shape[0] == len(churn.train)


def test_tree_shap_adds_up_to_the_raw_score(lightgbm_churn: ModelBundle, churn: Case) -> None:
    rows = churn.test.iloc[:40]
    result = shap_values(lightgbm_churn, rows)
    assert result is not None and result.method == "tree" and result.units == "log-odds of Yes"
    model = lightgbm_churn.pipeline[-1]
    X = lightgbm_churn.pipeline[:-1].transform(rows[lightgbm_churn.feature_names])
    raw = model.predict(X, raw_score=True)
    contributions = model.predict(X, pred_contrib=True)
    assert result.values.sum(axis=1) + contributions[:, -1] == pytest.approx(raw, abs=1e-6)


def test_global_importance_is_sampled_and_sorted(lightgbm_churn: ModelBundle, churn: Case) -> None:
    summary = shap_importance(lightgbm_churn, churn.test)
    assert summary["n_rows"] == 1_000 and summary["method"] == "tree"
    means = [f["mean_abs"] for f in summary["features"]]
    assert means == sorted(means, reverse=True)
    assert {f["name"] for f in summary["features"]} <= set(lightgbm_churn.feature_names)


def test_local_explanation_gives_top_contributions_with_values(
    lightgbm_churn: ModelBundle, churn: Case
) -> None:
    rows = churn.test.iloc[:3]
    explained = explain(lightgbm_churn, rows, top=4)
    assert len(explained) == 3 and all(len(e) == 4 for e in explained)
    first = explained[0]
    sizes = [abs(c["contribution"]) for c in first]
    assert sizes == sorted(sizes, reverse=True)
    for item in first:
        raw = rows.iloc[0][item["column"]]
        assert item["value"] == (raw.item() if hasattr(raw, "item") else raw)
    one = explain_row(lightgbm_churn, rows.iloc[0].to_dict(), top=4)
    assert [c["column"] for c in one] == [c["column"] for c in first]
    assert [c["contribution"] for c in one] == pytest.approx([c["contribution"] for c in first])


def test_multiclass_explains_the_predicted_class(penguins: Case) -> None:
    rows = penguins.test.iloc[:5]
    explained = explain(penguins.bundle, rows, top=2, background=penguins.train)
    assert all(len(e) == 2 for e in explained)
    summary = shap_importance(penguins.bundle, penguins.test)
    assert summary["method"] == "linear" and "each class" in summary["units"]


def test_bad_requests_are_refused(churn: Case) -> None:
    with pytest.raises(InvalidInputError, match="background"):
        explain(churn.bundle, churn.test.iloc[[0]])
    with pytest.raises(InvalidInputError, match="top"):
        explain(churn.bundle, churn.test.iloc[:2], top=0)

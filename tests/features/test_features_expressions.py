"""Derived-feature expressions: a strict whitelist parsed with `ast`, evaluated over columns,
undefined values as NaN; anything else refused with one sentence naming the feature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from loopml.errors import InvalidInputError
from loopml.features import DerivedFeatures, check_derived, parse_expression
from loopml.features._expressions import evaluate

COLUMNS = ["spend", "visits", "age"]


@pytest.mark.parametrize(
    "expr, problem",
    [
        ("__import__('os').system('x')", "calls attribute access"),
        ("__import__('os')", "calls the unknown function '__import__'"),
        ("spend.__class__", "uses attribute access"),
        ("spend[0]", "uses a subscript"),
        ("(lambda: 1)()", "only plain function names are allowed"),
        ("lambda: 1", "uses a lambda"),
        ("[x for x in spend]", "uses a ListComp expression"),
        ("'text'", "uses the constant 'text'"),
        ("spend > 1", "uses a comparison"),
        ("spend if visits else age", "uses a conditional expression"),
        ("log(spend", "has a syntax error"),
        ("eval('1')", "calls the unknown function 'eval'"),
        ("log(x=spend)", "passes keyword arguments to log()"),
        ("log(spend, 2)", "calls log() with 2 argument(s); it takes 1"),
        ("max(spend)", "calls max() with 1 argument(s); it takes 2 to 8"),
        ("spend // 2", "uses the operator FloorDiv"),
        ("spend % 2", "uses the operator Mod"),
        ("salary * 2", "uses the unknown column 'salary'"),
        ("True + spend", "uses the constant True"),
    ],
)
def test_anything_outside_the_whitelist_is_refused(expr: str, problem: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_expression("ratio", expr, COLUMNS)
    message = caught.value.message
    assert message.startswith("The derived feature 'ratio' ") and problem in message
    assert "log1p()" in (caught.value.hint or "")


def test_arithmetic_and_functions_are_vectorised_and_undefined_values_are_nan() -> None:
    columns = {
        "spend": np.array([10.0, 0.0, -4.0, np.nan]),
        "visits": np.array([2.0, 0.0, 4.0, 1.0]),
        "age": np.array([30.0, 40.0, 50.0, 60.0]),
    }
    program = parse_expression("f", "spend / visits + -log(age) ** 2 * 1e-3", COLUMNS)
    with np.errstate(all="ignore"):
        expected = columns["spend"] / columns["visits"] - np.log(columns["age"]) ** 2 * 1e-3
    out = evaluate(program, columns, 4)
    np.testing.assert_allclose(out[[0, 2]], expected[[0, 2]])
    assert np.isnan(out[1]) and np.isnan(out[3])  # 0/0 and a missing input
    logs = evaluate(parse_expression("g", "log(spend)", COLUMNS), columns, 4)
    assert np.isnan(logs[[1, 2, 3]]).all() and logs[0] == pytest.approx(np.log(10))
    both = evaluate(
        parse_expression("h", "max(spend, visits, 3) + min(age, 45)", COLUMNS), columns, 4
    )
    np.testing.assert_allclose(both[:3], [40.0, 43.0, 49.0])
    assert (
        np.isinf(evaluate(parse_expression("e", "exp(age * 100)", COLUMNS), columns, 4)).sum() == 0
    )
    constant = evaluate(parse_expression("c", "2 ** 3", COLUMNS), columns, 4)
    np.testing.assert_array_equal(constant, [8.0] * 4)


def test_derived_features_transformer_appends_columns_and_clones() -> None:
    frame = pd.DataFrame({"spend": [10, 20, None], "visits": ["2", "0", "x"], "city": list("abc")})
    step = DerivedFeatures([("per_visit", "spend / visits"), ("double", "per_visit * 2")])
    out = clone(step).fit(frame).transform(frame)
    assert list(out.columns) == ["spend", "visits", "city", "per_visit", "double"]
    assert out["per_visit"].iloc[0] == 5.0 and np.isnan(out["per_visit"].iloc[1:]).all()
    assert out["double"].iloc[0] == 10.0
    assert list(step.fit(frame).get_feature_names_out()) == list(out.columns)


def test_names_and_non_numeric_columns_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="has the name of an existing column"):
        check_derived([("spend", "visits * 2")], ["spend", "visits"])
    with pytest.raises(InvalidInputError, match="reads 'city', which is not a numeric column"):
        check_derived([("x", "log(city)")], ["spend"], ["city"])
    with pytest.raises(InvalidInputError, match="unknown column 'later'"):
        check_derived([("a", "later + 1"), ("later", "spend")], ["spend"])

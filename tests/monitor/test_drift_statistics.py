"""Every registered drift test equals scipy's reference implementation on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from loopml.errors import InvalidInputError
from loopml.monitor.drift import (
    CategoricalSummary,
    DriftResult,
    DriftTest,
    NumericSummary,
    _base,
    drift_tests,
    get_drift_test,
    register_drift_test,
)
from loopml.monitor.drift.psi import EPSILON
from loopml.monitor.drift.wasserstein import wasserstein_sorted

TOL = 1e-9


@pytest.fixture
def numeric() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.gamma(2.0, 3.0, 4_000), rng.gamma(2.3, 3.0, 2_500)


@pytest.fixture
def categories() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    reference = rng.choice(
        np.array(["a", "b", "c", "d"], dtype=object), 3_000, p=[0.4, 0.3, 0.2, 0.1]
    )
    current = rng.choice(
        np.array(["a", "b", "c", "e"], dtype=object), 2_000, p=[0.3, 0.3, 0.3, 0.1]
    )
    return reference, current


def _quantile_bins(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference decile bins built independently with np.quantile + np.histogram."""
    cuts = np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))
    # np.histogram bins are left-closed, so mirror the values to get (a, b] bins
    edges = np.concatenate(([-np.inf], -cuts[::-1], [np.inf]))
    ref = np.histogram(-reference, edges)[0][::-1]
    cur = np.histogram(-current, edges)[0][::-1]
    return ref, cur


def _category_counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, ...]:
    labels = sorted(set(reference) | set(current))
    return (
        np.array([np.sum(reference == c) for c in labels]),
        np.array([np.sum(current == c) for c in labels]),
    )


def _psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    ref = ref_counts / ref_counts.sum()
    cur = cur_counts / cur_counts.sum()
    ref, cur = np.where(ref == 0, EPSILON, ref), np.where(cur == 0, EPSILON, cur)
    return float(np.sum(rel_entr(cur, ref) + rel_entr(ref, cur)))


def test_ks_equals_scipy_on_raw_values_and_on_the_profile_sample(numeric):
    reference, current = numeric
    expected = ks_2samp(reference, current)
    result = get_drift_test("ks").compute(reference, current)
    assert result.statistic == pytest.approx(expected.statistic, abs=TOL)
    assert result.p_value == pytest.approx(expected.pvalue, abs=TOL)
    summary = NumericSummary.from_values(reference, sample_size=1_000, seed=3)
    on_sample = ks_2samp(summary.sample, current)
    from_profile = get_drift_test("ks").compute(summary, current)
    assert from_profile.statistic == pytest.approx(on_sample.statistic, abs=TOL)
    assert from_profile.p_value == pytest.approx(on_sample.pvalue, abs=TOL)


def test_wasserstein_equals_scipy_normed_by_reference_std(numeric):
    reference, current = numeric
    expected = wasserstein_distance(reference, current) / np.std(reference)
    result = get_drift_test("wasserstein").compute(reference, current)
    assert result.statistic == pytest.approx(expected, abs=TOL)
    assert result.p_value is None
    summary = NumericSummary.from_values(reference, sample_size=500, seed=1)
    on_sample = wasserstein_distance(summary.sample, current) / summary.std
    assert get_drift_test("wasserstein").compute(summary, current).statistic == pytest.approx(
        on_sample, abs=TOL
    )


def test_wasserstein_merge_handles_ties_and_unsorted_input():
    rng = np.random.default_rng(0)
    first = np.round(rng.normal(size=300), 1)
    second = np.round(rng.normal(0.2, 1.3, size=1_000), 1)
    expected = wasserstein_distance(first, second)
    assert wasserstein_sorted(np.sort(first), np.sort(second)) == pytest.approx(expected, abs=TOL)
    assert wasserstein_sorted(first, second) == pytest.approx(expected, abs=TOL)


def test_psi_on_reference_deciles_equals_symmetric_kl_with_epsilon(numeric):
    reference, current = numeric
    expected = _psi(*_quantile_bins(reference, current))
    assert get_drift_test("psi").compute(reference, current).statistic == pytest.approx(
        expected, abs=TOL
    )
    summary = NumericSummary.from_values(reference)
    assert get_drift_test("psi").compute(summary, current).statistic == pytest.approx(
        expected, abs=TOL
    )


def test_psi_on_categories_counts_unseen_categories(categories):
    reference, current = categories
    expected = _psi(*_category_counts(reference, current))
    result = get_drift_test("psi").compute(reference, current)
    assert result.statistic == pytest.approx(expected, abs=TOL)
    assert result.drifted == bool(expected >= 0.2)


def test_jensen_shannon_equals_scipy_on_bins_and_categories(numeric, categories):
    reference, current = numeric
    ref_counts, cur_counts = _quantile_bins(reference, current)
    expected = jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
    test = get_drift_test("jensenshannon")
    assert test.compute(reference, current).statistic == pytest.approx(expected, abs=TOL)
    ref_cat, cur_cat = categories
    ref_counts, cur_counts = _category_counts(ref_cat, cur_cat)
    expected = jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum())
    assert test.compute(ref_cat, cur_cat).statistic == pytest.approx(expected, abs=TOL)


def test_chi2_equals_scipy_contingency_on_the_two_by_k_table(categories):
    reference, current = categories
    expected = chi2_contingency(np.vstack(_category_counts(reference, current)), correction=False)
    for ref in (reference, CategoricalSummary.from_values(reference)):
        result = get_drift_test("chi2").compute(ref, CategoricalSummary.from_values(current))
        assert result.statistic == pytest.approx(expected.statistic, abs=TOL)
        assert result.p_value == pytest.approx(expected.pvalue, abs=TOL)
        assert result.drifted == bool(expected.pvalue < 0.05)


def test_chi2_with_a_single_shared_category_finds_no_drift():
    result = get_drift_test("chi2").compute(np.array(["x"] * 5), np.array(["x"] * 3))
    assert (result.statistic, result.p_value, result.drifted) == (0.0, 1.0, False)


def test_threshold_rules_differ_for_p_values_and_distances():
    same = np.linspace(0, 1, 500)
    assert not get_drift_test("ks").compute(same, same).drifted
    assert get_drift_test("ks").compute(same, same + 0.5).drifted
    assert get_drift_test("psi").compute(same, same).statistic == pytest.approx(0.0, abs=TOL)
    strict = get_drift_test("wasserstein", threshold=0.01)
    assert strict.threshold == 0.01
    assert strict.compute(same, same + 0.05).drifted


def test_registry_lists_the_builtin_tests_with_their_defaults():
    tests = drift_tests()
    assert set(tests) >= {"psi", "ks", "chi2", "jensenshannon", "wasserstein"}
    assert tests["psi"].default_threshold == 0.2
    assert tests["jensenshannon"].default_threshold == 0.1
    assert tests["wasserstein"].default_threshold == 0.1
    assert tests["ks"].applies_to == {"numeric"}
    assert tests["chi2"].applies_to == {"categorical"}
    assert tests["psi"].applies_to == {"numeric", "categorical"}


def test_unknown_test_name_lists_the_known_ones():
    with pytest.raises(InvalidInputError, match="no drift test named 'anderson'") as info:
        get_drift_test("anderson")
    assert "chi2" in str(info.value) and "wasserstein" in str(info.value)


def test_a_registered_plugin_is_found_by_name(monkeypatch):
    monkeypatch.setattr(_base, "_REGISTRY", dict(_base._REGISTRY))

    @register_drift_test
    class MeanShift(DriftTest):
        name = "mean_shift"
        applies_to = frozenset({"numeric"})
        default_threshold = 1.0
        uses_p_value = False

        def compute(self, reference, current) -> DriftResult:
            return self.result(abs(float(np.mean(current)) - float(np.mean(reference))))

    assert get_drift_test("mean_shift").compute(np.zeros(3), np.full(3, 2.0)).drifted

    class Impostor(MeanShift):
        pass

    with pytest.raises(InvalidInputError, match="already registered"):
        register_drift_test(Impostor)


def test_tests_refuse_inputs_of_the_wrong_kind_or_empty():
    counted = CategoricalSummary.from_values(np.array(["a", "b"], dtype=object))
    with pytest.raises(InvalidInputError, match="compares numeric values"):
        get_drift_test("ks").compute(counted, np.array([1.0]))
    with pytest.raises(InvalidInputError, match="must be numbers"):
        get_drift_test("wasserstein").compute(np.array([1.0, 2.0]), np.array(["a"], dtype=object))
    with pytest.raises(InvalidInputError, match="no finite number"):
        get_drift_test("ks").compute(np.array([1.0, 2.0]), np.array([np.nan]))
    with pytest.raises(InvalidInputError, match="threshold"):
        get_drift_test("psi", threshold=-1)

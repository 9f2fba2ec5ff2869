"""as_labels labels each distinct value once on large frames; the result equals the per-cell
labelling exactly (batch scoring relies on it for speed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.features._transformers import _FACTORIZE_ROWS, _to_label, as_labels


def per_cell(frame: pd.DataFrame) -> pd.DataFrame:
    labels = _to_label(frame.to_numpy(dtype=object))
    return pd.DataFrame(labels, index=frame.index, columns=frame.columns, dtype=object)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 2 * _FACTORIZE_ROWS
    return pd.DataFrame(
        {
            "text": rng.choice(np.array(["a", "b", None, "c"], dtype=object), n),
            "floats": rng.choice([1.0, 2.5, np.nan, -0.0, 3.0], n),
            "ints": rng.integers(0, 5, n),
            "bools": rng.choice([True, False], n),
            # True == 1 == 1.0 hash alike but label differently: must not be merged.
            "mixed": pd.Series(rng.choice(np.array([True, 1, 1.0, "1", None], dtype=object), n)),
            "category": pd.Categorical(rng.choice(np.array(["x", "y", None], dtype=object), n)),
            "nullable_bool": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
            "nullable_int": pd.array(rng.choice([1, 2, None], n), dtype="Int64"),
            "string": pd.array(rng.choice(np.array(["p", None], dtype=object), n), dtype="string"),
        },
        index=pd.RangeIndex(5, 5 + n),
    )


def test_labels_of_a_large_frame_equal_the_per_cell_labels(frame: pd.DataFrame) -> None:
    result = as_labels(frame)

    pd.testing.assert_frame_equal(result, per_cell(frame))
    assert result.dtypes.eq(object).all()
    assert set(result["mixed"].dropna()) == {"True", "1"}


def test_small_and_large_frames_label_alike(frame: pd.DataFrame) -> None:
    small = frame.iloc[:10]

    pd.testing.assert_frame_equal(as_labels(small), as_labels(frame).iloc[:10])

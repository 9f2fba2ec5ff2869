"""Batch scoring of files: streamed in chunks, equal to predict_frame, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loopml.data import validate
from loopml.data._report import REASON_COLUMN
from loopml.errors import DataError, InvalidInputError, NotFoundError
from loopml.serve import score_file
from loopml.serve._batch import quarantine_path
from loopml.serve._batch_checks import ContractChecks
from loopml.train import ModelBundle


@pytest.fixture(scope="module")
def sample(churn_frame: pd.DataFrame) -> pd.DataFrame:
    """Rows the model did not train on, with the target and a pass-through id column."""
    rows = churn_frame.iloc[3000:3950].reset_index(drop=True)
    return rows.assign(customer=[f"c{i}" for i in range(len(rows))])


def assert_scored(output: pd.DataFrame, source: pd.DataFrame, bundle: ModelBundle) -> None:
    expected = bundle.predict_frame(source)
    assert list(output.columns) == [*source.columns, *bundle.output_columns]
    pd.testing.assert_frame_equal(
        output[list(source.columns)], source, check_dtype=False, check_column_type=False
    )
    assert output["prediction"].tolist() == expected["prediction"].tolist()
    for column in bundle.output_columns[1:]:
        np.testing.assert_allclose(output[column], expected[column], rtol=1e-12)


def test_csv_to_csv_in_several_chunks_equals_predict_frame(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    source = tmp_path / "in.csv"
    sample.to_csv(source, index=False)
    seen: list[int] = []

    result = score_file(
        churn_bundle, source, tmp_path / "out.csv", chunk_rows=300, progress=seen.append
    )

    assert seen == [300, 300, 300, 50]
    assert result.n_rows == len(sample) and result.output_path == tmp_path / "out.csv"
    assert result.seconds > 0
    assert_scored(pd.read_csv(result.output_path), pd.read_csv(source), churn_bundle)


def test_parquet_to_parquet_keeps_types_and_writes_one_row_group_per_chunk(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    source = tmp_path / "in.parquet"
    sample.to_parquet(source, index=False)

    result = score_file(churn_bundle, source, tmp_path / "out.parquet", chunk_rows=400)

    written = pq.ParquetFile(result.output_path)
    assert written.metadata.num_row_groups == 3
    input_schema = pq.read_schema(source)
    for field in input_schema:
        assert written.schema_arrow.field(field.name).type == field.type
    assert_scored(pd.read_parquet(result.output_path), pd.read_parquet(source), churn_bundle)


def test_csv_to_parquet_tolerates_integers_that_turn_null_in_a_later_chunk(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    calls = pd.array([i if i < 300 else None for i in range(500)], dtype="Int64")
    frame = sample.iloc[:500].assign(calls=calls)
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)

    result = score_file(churn_bundle, source, tmp_path / "out.parquet", chunk_rows=300)

    output = pd.read_parquet(result.output_path)
    assert pq.read_schema(result.output_path).field("calls").type == "int64"
    assert output["calls"].iloc[:300].tolist() == list(range(300))
    assert output["calls"].iloc[300:].isna().all()
    assert_scored(output, pd.read_csv(source), churn_bundle)


@pytest.mark.parametrize(("suffix", "keep"), [(".parquet", ["customer", "tenure"]), (".csv", [])])
def test_keep_narrows_the_output_to_chosen_input_columns_but_quarantine_keeps_all(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle, suffix: str, keep: list[str]
) -> None:
    source, target = tmp_path / "in.csv", tmp_path / f"out{suffix}"
    frame = messy(sample)
    frame.to_csv(source, index=False)
    written = pd.read_csv(source)
    report = validate(written, churn_bundle.contract)

    result = score_file(churn_bundle, source, target, chunk_rows=250, keep=[*keep, *keep])

    output = (pd.read_csv if suffix == ".csv" else pd.read_parquet)(target)
    assert list(output.columns) == [*keep, *churn_bundle.output_columns]
    good = report.good(written).reset_index(drop=True)
    expected = churn_bundle.predict_frame(good)
    assert output["prediction"].tolist() == expected["prediction"].tolist()
    for column in keep:
        assert output[column].tolist() == good[column].tolist()
    reader = pd.read_csv if suffix == ".csv" else pd.read_parquet
    quarantined = reader(quarantine_path(target))
    assert result.n_quarantined == 7
    assert list(quarantined.columns) == [*frame.columns, REASON_COLUMN]


def test_keep_from_parquet_writes_the_kept_columns_with_their_own_types(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    source = tmp_path / "in.parquet"
    sample.to_parquet(source, index=False)

    result = score_file(churn_bundle, source, tmp_path / "out.parquet", keep=["customer"])

    schema = pq.read_schema(result.output_path)
    assert schema.names == ["customer", *churn_bundle.output_columns]
    assert schema.field("customer").type == pq.read_schema(source).field("customer").type
    output = pd.read_parquet(result.output_path)
    assert output["customer"].tolist() == sample["customer"].tolist()
    expected = churn_bundle.predict_frame(sample)
    assert output["prediction"].tolist() == expected["prediction"].tolist()


def test_keep_of_no_rows_and_of_an_unknown_column(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    source = tmp_path / "in.parquet"
    sample.iloc[:0].to_parquet(source)

    empty = score_file(churn_bundle, source, tmp_path / "empty.parquet", keep=["customer"])

    columns = pq.read_schema(empty.output_path).names
    assert columns == ["customer", *churn_bundle.output_columns]
    with pytest.raises(InvalidInputError) as caught:
        score_file(churn_bundle, source, tmp_path / "out.parquet", keep=["customer", "cust_id"])
    assert caught.value.message.startswith(
        "in.parquet has no column(s) 'cust_id' to keep in the output; it has: "
    )
    assert not (tmp_path / "out.parquet").exists()


def test_a_missing_feature_column_is_named_and_nothing_is_written(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    source = tmp_path / "in.parquet"
    sample.drop(columns=["tenure", "contract"]).to_parquet(source)
    target = tmp_path / "out.csv"

    with pytest.raises(DataError) as caught:
        score_file(churn_bundle, source, target)

    assert caught.value.message == (
        "in.parquet is missing 2 column(s) the model needs: tenure, contract."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet"]


def test_a_bad_row_in_a_later_chunk_under_fail_leaves_the_previous_output_untouched(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    frame = sample.iloc[:400].astype({"tenure": object})
    frame.loc[350, "tenure"] = "unknown"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    frame.to_csv(source, index=False)
    target.write_text("previous results\n")

    with pytest.raises(DataError, match=r"break the data contract, e\.g\. row 350: tenure: dtype"):
        score_file(churn_bundle, source, target, chunk_rows=200, on_invalid="fail")

    assert target.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def messy(sample: pd.DataFrame) -> pd.DataFrame:
    """Rows breaking the contract in several ways, among good ones."""
    frame = sample.iloc[:600].astype({"tenure": object, "monthly_charges": float}).copy()
    frame.loc[10, "tenure"] = "unknown"  # dtype
    frame.loc[20, "tenure"] = 10_000  # in_range
    frame.loc[30, "tenure"] = 2.5  # dtype (not an integer)
    frame.loc[40, "monthly_charges"] = -3.0  # in_range (min 0)
    frame.loc[50, "contract"] = "Forever"  # allowed_categories
    frame.loc[60, ["contract", "tenure"]] = ["Forever", -1]  # two reasons
    frame.loc[70, "monthly_charges"] = np.nan  # missing passes
    frame.loc[80, "contract"] = None  # missing passes
    frame.loc[450, "internet_service"] = "Carrier pigeon"  # in a later chunk
    return frame


def test_rows_breaking_the_contract_are_quarantined_with_the_reasons_validate_gives(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    frame = messy(sample)
    source, target = tmp_path / "in.csv", tmp_path / "out.parquet"
    frame.to_csv(source, index=False)
    written = pd.read_csv(source)
    report = validate(written, churn_bundle.contract)

    result = score_file(churn_bundle, source, target, chunk_rows=250)

    expected_bad = report.quarantine(written)
    quarantined = pd.read_parquet(quarantine_path(target))
    assert result.quarantine == str(quarantine_path(target))
    assert result.n_quarantined == len(expected_bad) == 7
    assert quarantined[REASON_COLUMN].tolist() == expected_bad[REASON_COLUMN].tolist()
    assert quarantined["customer"].tolist() == expected_bad["customer"].tolist()
    assert "tenure: in_range; contract: allowed_categories" in quarantined[REASON_COLUMN].tolist()
    good = report.good(written).reset_index(drop=True)
    assert result.n_rows == len(good) == 593
    assert_scored(pd.read_parquet(target), good, churn_bundle)
    assert result.violations["tenure: dtype"] == 2


def test_warn_scores_every_row_and_counts_the_violations(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    frame = messy(sample).astype({"tenure": float}, errors="ignore")
    frame.loc[10, "tenure"] = np.nan
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    frame.assign(tenure=pd.to_numeric(frame["tenure"])).to_parquet(source, index=False)

    result = score_file(churn_bundle, source, target, on_invalid="warn")

    assert result.n_rows == 600 and result.n_quarantined == 0 and result.quarantine is None
    assert not quarantine_path(target).exists()
    assert result.violations == {
        "tenure: dtype": 1,
        "tenure: in_range": 2,
        "monthly_charges: in_range": 1,
        "contract: allowed_categories": 2,
        "internet_service: allowed_categories": 1,
    }


@pytest.mark.parametrize("layout", ["pandas", "arrow", "arrow-dictionary", "arrow-large-string"])
def test_chunk_checks_give_the_verdicts_of_validate(
    sample: pd.DataFrame, churn_bundle: ModelBundle, layout: str
) -> None:
    frame = messy(sample)
    frame.loc[90, "monthly_charges"] = np.inf  # a float, but out of range? no: max is None
    frame.loc[91, "total_charges"] = -np.inf
    numeric = frame.assign(tenure=pd.to_numeric(frame["tenure"], errors="coerce"))
    chunk: pd.DataFrame | pa.RecordBatch = frame
    if layout != "pandas":
        frame = numeric
        table = pa.Table.from_pandas(numeric, preserve_index=False)
        if layout == "arrow-dictionary":
            table = table.set_column(
                table.schema.get_field_index("contract"),
                "contract",
                table.column("contract").dictionary_encode(),
            )
        if layout == "arrow-large-string":  # as pandas' own Parquet files store text
            table = table.cast(
                pa.schema(
                    [
                        f.with_type(pa.large_string()) if pa.types.is_string(f.type) else f
                        for f in table.schema
                    ]
                )
            )
            assert pa.types.is_large_string(table.schema.field("contract").type)
        chunk = table.combine_chunks().to_batches()[0]
    report = validate(frame, churn_bundle.contract)

    verdict = ContractChecks(churn_bundle.contract).check(chunk)

    assert verdict.rows.tolist() == report.bad_rows.tolist()
    expected = ["; ".join(report.row_reasons[int(i)]) for i in report.bad_rows]
    assert verdict.reasons.tolist() == expected


def test_an_already_scored_file_is_refused(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    source = tmp_path / "in.csv"
    sample.assign(prediction="No").to_csv(source, index=False)

    with pytest.raises(DataError, match="already has column"):
        score_file(churn_bundle, source, tmp_path / "out.csv")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_input_without_rows_gives_an_output_with_only_columns(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle, suffix: str
) -> None:
    source = tmp_path / f"in{suffix}"
    empty = sample.iloc[:0]
    empty.to_csv(source, index=False) if suffix == ".csv" else empty.to_parquet(source)

    result = score_file(churn_bundle, source, tmp_path / f"out{suffix}")

    output = (pd.read_csv if suffix == ".csv" else pd.read_parquet)(result.output_path)
    assert result.n_rows == 0 and len(output) == 0
    assert list(output.columns) == [*sample.columns, *churn_bundle.output_columns]


def test_unsupported_formats_and_missing_inputs_are_explained(
    tmp_path: Path, churn_bundle: ModelBundle
) -> None:
    with pytest.raises(InvalidInputError, match=r"reads and writes \.csv and \.parquet"):
        score_file(churn_bundle, tmp_path / "in.xlsx", tmp_path / "out.csv")
    with pytest.raises(NotFoundError, match="does not exist"):
        score_file(churn_bundle, tmp_path / "in.csv", tmp_path / "out.csv")
    with pytest.raises(InvalidInputError, match="'chunk_rows' parameter"):
        score_file(churn_bundle, tmp_path / "in.csv", tmp_path / "out.csv", chunk_rows=0)


def test_an_unreadable_file_is_a_data_error(tmp_path: Path, churn_bundle: ModelBundle) -> None:
    source = tmp_path / "in.parquet"
    source.write_bytes(b"not parquet at all")

    with pytest.raises(DataError, match="Cannot read"):
        score_file(churn_bundle, source, tmp_path / "out.parquet")


def test_a_column_whose_type_changes_between_chunks_is_explained(
    tmp_path: Path, sample: pd.DataFrame, churn_bundle: ModelBundle
) -> None:
    frame = sample.iloc[:400].assign(calls=[str(i) if i < 200 else f"{i}.5" for i in range(400)])
    source, target = tmp_path / "in.csv", tmp_path / "out.parquet"
    frame.to_csv(source, index=False)

    with pytest.raises(DataError) as caught:
        score_file(churn_bundle, source, target, chunk_rows=200)

    assert caught.value.message.startswith(
        "Column types change between chunks of the input: calls (int64 then double)"
    )
    assert not target.exists()

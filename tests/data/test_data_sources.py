"""Reading files: formats, delimiters, encodings, and one clear DataError per bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from loopml.data import describe_source, read_source, read_table
from loopml.errors import DataError, InvalidInputError

SMALL = pd.DataFrame({"id": [1, 2, 3], "city": ["Paris", "Köln", "Oslo"], "x": [0.5, 1.5, None]})


def _same(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == ["id", "city", "x"]
    assert frame["id"].tolist() == [1, 2, 3]
    assert frame["city"].tolist() == ["Paris", "Köln", "Oslo"]
    assert frame["x"].iloc[:2].tolist() == [0.5, 1.5] and pd.isna(frame["x"].iloc[2])


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("t.csv", lambda df, p: df.to_csv(p, index=False)),
        ("t.tsv", lambda df, p: df.to_csv(p, sep="\t", index=False)),
        ("t.parquet", lambda df, p: df.to_parquet(p)),
        ("t.json", lambda df, p: df.to_json(p, orient="records")),
        ("t.jsonl", lambda df, p: df.to_json(p, orient="records", lines=True)),
    ],
)
def test_every_supported_format_reads_the_same_table(
    tmp_path: Path, name: str, writer: Callable[[pd.DataFrame, Path], None]
) -> None:
    path = tmp_path / name
    writer(SMALL, path)
    _same(read_table(path))


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_delimiter_is_detected(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "t.csv"
    SMALL.to_csv(path, sep=sep, index=False)
    _same(read_table(path))


def test_quoted_fields_keep_delimiters_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('name;note\n"Smith; John";"line one\nline two"\n"Doe";plain\n')
    frame = read_table(path)
    assert frame["name"].tolist() == ["Smith; John", "Doe"]
    assert frame["note"].iloc[0] == "line one\nline two"


def test_utf8_bom_and_latin1_are_decoded(tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffnom;ville\nZoé;Zürich\n".encode())
    assert read_table(bom).to_dict("list") == {"nom": ["Zoé"], "ville": ["Zürich"]}
    latin = tmp_path / "latin.csv"
    latin.write_bytes("nom,ville\nZoé,Zürich\n".encode("latin-1"))
    assert read_table(latin).to_dict("list") == {"nom": ["Zoé"], "ville": ["Zürich"]}


def test_column_names_are_stripped_and_unicode_kept(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("  âge , 名前 ,score\n1,a,2\n")
    assert list(read_table(path).columns) == ["âge", "名前", "score"]


def test_format_argument_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    SMALL.to_parquet(path)
    _same(read_table(path, format="parquet"))


def test_real_churn_round_trips_through_csv(tmp_path: Path, churn: pd.DataFrame) -> None:
    path = tmp_path / "churn.csv"
    churn.to_csv(path, index=False, sep=";")
    frame = read_table(path)
    assert frame.shape == (7043, 20)
    assert frame["total_charges"].isna().sum() == 11


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_text("a,b,c\n"), "has column names but no rows"),
        (lambda p: p.write_text("\n\n"), "holds no data"),
        (lambda p: SMALL.to_parquet(p), "is a Parquet file, not CSV"),
        (lambda p: p.write_bytes(b"\x00\x01\x02garbage\xff\x00" * 20), "binary data"),
        (lambda p: p.write_text('[{"a": 1}]'), "looks like JSON"),
        (lambda p: p.write_text("a,b,a\n1,2,3\n"), "duplicated column names: 'a'"),
        (lambda p: p.write_text("a , b,a\n1,2,3\n"), "duplicated column names: 'a'"),
    ],
)
def test_bad_csv_files_raise_one_clear_data_error(
    tmp_path: Path, setup: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "bad.csv"
    setup(path)
    with pytest.raises(DataError, match=message) as info:
        read_table(path)
    assert str(path) in info.value.message or "bad.csv" in info.value.message
    assert info.value.hint


def test_bad_parquet_and_json_files(tmp_path: Path) -> None:
    parquet = tmp_path / "x.parquet"
    parquet.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="not a valid Parquet file") as info:
        read_table(parquet)
    assert info.value.__cause__ is not None
    json_file = tmp_path / "x.json"
    json_file.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="is not JSON"):
        read_table(json_file)
    broken = tmp_path / "y.json"
    broken.write_text('[{"a": 1}, {"a": ')
    with pytest.raises(DataError, match="could not be read as JSON"):
        read_table(broken)
    empty = tmp_path / "e.json"
    empty.write_text("[]")
    with pytest.raises(DataError, match="no rows"):
        read_table(empty)
    no_rows = tmp_path / "e.parquet"
    SMALL.iloc[:0].to_parquet(no_rows)
    with pytest.raises(DataError, match="no rows"):
        read_table(no_rows)


def test_unsupported_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "book.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataError, match="Cannot tell the format") as info:
        read_table(path)
    assert ".parquet" in str(info.value) and ".csv" in str(info.value)
    with pytest.raises(DataError, match="Unsupported data format 'xml'"):
        read_table(path, format="xml")


def test_describe_source_of_a_file_hashes_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    SMALL.to_csv(path, index=False)
    first = describe_source(path)
    assert first["kind"] == "file" and first["format"] == "csv"
    assert first["size_bytes"] == path.stat().st_size and len(first["sha256"]) == 64
    path.write_text(path.read_text() + "4,Rome,2.5\n")
    assert describe_source(path)["sha256"] != first["sha256"]
    with pytest.raises(DataError, match="does not exist"):
        describe_source(tmp_path / "nope.csv")


def test_describe_source_of_a_database_masks_the_password() -> None:
    described = describe_source("postgresql+psycopg://ana:s3cret@db:5432/sales", query="SELECT 1")
    assert described == {
        "kind": "sql",
        "url": "postgresql+psycopg://ana:***@db:5432/sales",
        "dialect": "postgresql",
        "query": "SELECT 1",
        "table": None,
    }


def test_read_source_dispatches_on_the_kind_of_source(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    SMALL.to_csv(path, index=False)
    _same(read_source(path))
    with pytest.raises(InvalidInputError, match="apply to database URLs"):
        read_source(path, query="SELECT 1")


def test_excel_workbook_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    SMALL.to_excel(path, index=False)
    frame = read_table(path)
    assert list(frame.columns) == list(SMALL.columns) and len(frame) == len(SMALL)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"not an Excel \.xlsx workbook"):
        read_table(fake)

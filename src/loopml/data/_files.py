"""Reading table files: CSV, TSV, Parquet, JSON, JSON Lines and Excel (.xlsx, first sheet).

Every failure a user can cause (a missing file, an empty one, a Parquet file named ``.csv``,
duplicated column names …) is raised as one :class:`DataError` sentence with a hint, chained to the
original exception.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from loopml.errors import DataError

SUPPORTED_FORMATS: tuple[str, ...] = ("csv", "tsv", "parquet", "json", "jsonl", "excel")
"""File formats :func:`read_table` reads."""

_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "excel",
    ".xlsm": "excel",
}
_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024
# Leading bytes of file types people most often mistake for a table (checked before parsing).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"SQLite format 3\x00", "a SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook"),
)


def _supported_hint() -> str:
    exts = ", ".join(sorted(_EXTENSIONS))
    return f"Supported extensions: {exts}; or pass format= one of {', '.join(SUPPORTED_FORMATS)}."


def resolve_format(path: Path, format: str | None = None) -> str:
    """The format of ``path``: ``format`` if given, else from the file extension.

    Raises:
        DataError: the format or the extension is not supported.
    """
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt not in SUPPORTED_FORMATS:
            raise DataError(f"Unsupported data format {format!r}.", hint=_supported_hint())
        return fmt
    suffix = path.suffix.lower()
    if suffix not in _EXTENSIONS:
        shown = suffix or "no extension"
        raise DataError(f"Cannot tell the format of {path} ({shown}).", hint=_supported_hint())
    return _EXTENSIONS[suffix]


def check_file(path: str | Path) -> Path:
    """``path`` as a Path after checking it is an existing, non-empty regular file.

    Raises:
        DataError: the path does not exist, is a directory, or is empty (0 bytes).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(
            f"The data file {path} does not exist.",
            hint="Check the path (relative paths start from the current directory).",
        )
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a data file.", hint="Point to one file.")
    if path.stat().st_size == 0:
        raise DataError(f"The data file {path} is empty (0 bytes).", hint="Export the data again.")
    return path


def read_table(path: str | Path, *, format: str | None = None) -> pd.DataFrame:
    """Read a table file into a DataFrame with stripped, unique column names.

    CSV delimiters are detected among ``, ; TAB |``; the encoding is UTF-8 (with or without a
    byte-order mark), falling back to Latin-1. JSON is an array of records, JSON Lines one record
    per line. The format comes from the extension unless ``format`` is given.

    Raises:
        DataError: the file is missing, a directory, empty, has a header but no rows, is not the
            format its name says, has duplicated column names, or its format is not supported.
    """
    path = check_file(path)
    fmt = resolve_format(path, format)
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if fmt == "parquet":
        frame = _read_parquet(path)
    elif fmt == "excel":
        frame = _read_excel(path, head)
    else:
        _check_text(path, head, fmt)
        reader = _read_csv if fmt in ("csv", "tsv") else _read_json
        frame = reader(path, head, fmt)
    frame = clean_columns(frame, str(path))
    if len(frame) == 0:
        raise DataError(
            f"The data file {path} has column names but no rows.",
            hint="Export the data again with its rows.",
        )
    return frame


def _check_text(path: Path, head: bytes, fmt: str) -> None:
    """Refuse binary content in a file whose extension promises text."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            hint = "Rename it with the right extension or pass format=."
            if magic == b"PAR1":
                hint = "Rename it to .parquet or pass format='parquet'."
            raise DataError(f"{path} is {what}, not {fmt.upper()} text.", hint=hint)
    if b"\x00" in head:
        raise DataError(
            f"{path} holds binary data, not {fmt.upper()} text.",
            hint="Check the file was exported as text, or pass the right format=.",
        )


def _encoding(head: bytes) -> str:
    """``utf-8-sig`` (which also accepts a BOM) when the sample is UTF-8, else ``latin-1``."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A sample cut inside a multi-byte character is still UTF-8.
        if exc.start < len(head) - 3:
            return "latin-1"
    return "utf-8-sig"


def _sniff_delimiter(text: str) -> str:
    """The delimiter giving the most columns, consistently across the sample's records."""
    best, best_score = ",", (0.0, 0)
    for delimiter in _DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        except csv.Error:
            continue
        rows = [r for r in rows[:-1] or rows if r]  # the last record may be cut by the sample
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(path: Path, head: bytes, fmt: str) -> pd.DataFrame:
    encoding = _encoding(head)
    text = head.decode(encoding, errors="ignore")
    if text.lstrip()[:1] in ("[", "{"):
        raise DataError(
            f"{path} looks like JSON, not {fmt.upper()}.",
            hint="Rename it to .json/.jsonl or pass format='json'.",
        )
    sep = "\t" if fmt == "tsv" else _sniff_delimiter(text)
    try:
        try:
            return _parse_csv(path, sep, encoding)
        except UnicodeDecodeError:
            # The sample was UTF-8 but a later part of the file is not.
            return _parse_csv(path, sep, "latin-1")
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"The data file {path} holds no data.", hint="Export it again.") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            f"{path} could not be read as {fmt.upper()}: {first_line(exc)}.",
            hint="Check the delimiter and quoting, or pass the right format=.",
        ) from exc


def _parse_csv(path: Path, sep: str, encoding: str) -> pd.DataFrame:
    # pandas renames duplicated headers (``a``, ``a.1``), so they are checked on the raw row.
    header = pd.read_csv(path, sep=sep, encoding=encoding, header=None, nrows=1, dtype=str)
    _check_duplicates([str(v) for v in header.iloc[0].tolist() if pd.notna(v)], str(path))
    return pd.read_csv(path, sep=sep, encoding=encoding)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(
            f"{path} is not a valid Parquet file ({first_line(exc)}).",
            hint="Check the file is Parquet, or rename it to the extension of its real format.",
        ) from exc
    _check_duplicates(table.column_names, str(path))
    return table.to_pandas()


def _read_excel(path: Path, head: bytes) -> pd.DataFrame:
    """The first sheet of an .xlsx workbook (read with openpyxl)."""
    if not head.startswith(b"PK\x03\x04"):
        raise DataError(
            f"{path} is not an Excel .xlsx workbook.",
            hint="Save it as .xlsx from Excel, or rename it to the extension of its real format.",
        )
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:
            header = pd.read_excel(workbook, sheet_name=0, header=None, nrows=1, dtype=str)
            if len(header):
                _check_duplicates([str(v) for v in header.iloc[0] if pd.notna(v)], str(path))
            return pd.read_excel(workbook, sheet_name=0)
    except ImportError as exc:
        raise DataError(
            f"Reading {path} needs the openpyxl package.", hint="pip install openpyxl"
        ) from exc
    except (ValueError, KeyError, OSError) as exc:
        raise DataError(
            f"{path} could not be read as an Excel workbook: {first_line(exc)}.",
            hint="Check the file opens in Excel and its first sheet holds a table.",
        ) from exc
    except Exception as exc:  # zipfile.BadZipFile and openpyxl's own errors
        if type(exc).__module__.startswith(("zipfile", "openpyxl")):
            raise DataError(
                f"{path} is not a valid Excel workbook ({first_line(exc)}).",
                hint="Check the file opens in Excel.",
            ) from exc
        raise


def _read_json(path: Path, head: bytes, fmt: str) -> pd.DataFrame:
    first = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")[:1]
    if fmt == "json" and first not in ("[", "{"):
        raise DataError(
            f"{path} is not JSON (it does not start with '[' or '{{').",
            hint="Check the file, or pass the format of its real content.",
        )
    lines = fmt == "jsonl" or first == "{"  # a .json file of one object per line is JSON Lines
    try:
        frame = pd.read_json(path, lines=lines, orient="records", dtype=False)
    except ValueError as exc:
        raise DataError(
            f"{path} could not be read as {'JSON Lines' if lines else 'JSON'}: {first_line(exc)}.",
            hint="JSON must be an array of records; JSON Lines one record object per line.",
        ) from exc
    return frame


def clean_columns(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    names = [str(c).strip() for c in frame.columns]
    _check_duplicates(names, where)
    frame.columns = pd.Index(names, dtype=object)
    return frame


def _check_duplicates(names: list[str], where: str) -> None:
    stripped = [n.strip() for n in names]
    duplicated = sorted({n for n in stripped if stripped.count(n) > 1})
    if duplicated:
        shown = ", ".join(repr(n) for n in duplicated)
        raise DataError(
            f"{where} has duplicated column names: {shown}.",
            hint="Rename the columns so that each name appears once.",
        )


def first_line(exc: BaseException) -> str:
    """The first line of the underlying (driver's) message of ``exc``."""
    if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None:
        exc = exc.__cause__  # pandas wraps the SQLAlchemy error
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0].rstrip(".")


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()

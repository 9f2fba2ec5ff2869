"""``contract.yaml``: the data contract as a commented file that people edit.

Written with ruamel.yaml (round-trip mode keeps comments when people edit the file) and replaced
atomically; read back with pydantic validation whose errors name the file, the line and the column.
"""

from __future__ import annotations

import difflib
import io
import os
import tempfile
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from loopml.data._contract import (
    ColumnSpec,
    DataContract,
    Dtype,
    ExtraFieldsPolicy,
    Role,
    UnseenValuesPolicy,
)
from loopml.errors import DataError, NotFoundError

_HEADER = f"""\
loopml data contract: one block per column, enforced at training, batch scoring and serving.
Edit it freely; loopml validates it when it is read.
  dtype:          {" | ".join(get_args(Dtype))}
  role:           {" | ".join(get_args(Role))}
  sensitive:      true marks a protected attribute audited for fairness
  max_null_share: largest share of missing values tolerated (0 to 1)
  min / max:      allowed range of a number column (delete a line to drop the limit)
  categories:     allowed values of a category column
  unique:         true when no two rows may share a value
What the serving API does with requests outside the contract (batch scoring follows --on-invalid):
  extra_fields:       {" | ".join(get_args(ExtraFieldsPolicy))} a field that is not a column
  unknown_categories: {" | ".join(get_args(UnseenValuesPolicy))} a category unseen in training
  out_of_range:       {" | ".join(get_args(UnseenValuesPolicy))} a number outside min / max
  (flag scores the record and returns a warning with it; reject answers 422)
"""
_OPTIONAL = ("min", "max", "categories", "description")


def _yaml() -> YAML:
    yaml = YAML()  # round-trip
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def _column_block(spec: ColumnSpec) -> CommentedMap:
    block = CommentedMap()
    for key, value in spec.model_dump(mode="json").items():
        if key in _OPTIONAL and value in (None, ""):
            continue
        if key == "categories":
            value = CommentedSeq(value)
            value.fa.set_flow_style()
        block[key] = value
    return block


def write_contract_yaml(contract: DataContract, path: Path) -> None:
    """Write ``contract`` to ``path`` as commented YAML; the file is replaced atomically."""
    document = CommentedMap()
    document["target"] = contract.target
    document["extra_fields"] = contract.extra_fields
    document["unknown_categories"] = contract.unknown_categories
    document["out_of_range"] = contract.out_of_range
    columns = CommentedSeq(_column_block(spec) for spec in contract.columns)
    document["columns"] = columns
    document.yaml_set_start_comment(_HEADER)
    for index in range(1, len(columns)):
        columns.yaml_set_comment_before_after_key(index, before="\n", indent=2)
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(buffer.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_contract_yaml(path: Path) -> DataContract:
    """Read and validate a contract file.

    Raises:
        NotFoundError: ``path`` does not exist.
        DataError: the file is not YAML, or not a valid contract; the message names the line,
            the column and the key at fault (all problems, separated by ``;``).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(
            f"The contract file {path} does not exist.",
            hint="Create it with `loopml ingest`, or check the path.",
        )
    try:
        document = _yaml().load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path.name} line {mark.line + 1}" if mark is not None else path.name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataError(f"{where}: not valid YAML ({problem}).") from exc
    if not isinstance(document, CommentedMap):
        raise DataError(
            f"{path.name}: a contract must be a mapping with 'columns:' (and 'target:').",
            hint="Compare with a contract written by `loopml ingest`.",
        )
    problems = _consistency_problems(document, path.name)
    try:
        contract = DataContract.model_validate(_plain(document))
    except ValidationError as exc:
        # Model-level errors (no location) repeat the consistency problems found above.
        located = [e for e in exc.errors() if e["loc"] or not problems]
        problems = [_describe_error(err, document, path.name) for err in located] + problems
        contract = None
    if problems or contract is None:
        raise DataError(
            "; ".join(dict.fromkeys(problems)) + ".",
            hint=f"Fix {path.name} and read it again.",
            details={"problems": problems},
        )
    return contract


def _plain(node: Any) -> Any:
    """Plain dicts/lists; category values written as numbers or booleans become strings."""
    if isinstance(node, dict):
        plain = {str(k): _plain(v) for k, v in node.items()}
        if isinstance(plain.get("categories"), list):
            plain["categories"] = [v if isinstance(v, str) else str(v) for v in plain["categories"]]
        return plain
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _line(node: Any, key: Any = None) -> int | None:
    """1-based line of ``key`` inside ``node`` (or of ``node`` itself), if ruamel knows it."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is None:
            return int(lc.line) + 1
        if isinstance(node, CommentedSeq):
            return int(lc.item(key)[0]) + 1
        return int(lc.key(key)[0]) + 1
    except (KeyError, IndexError, TypeError):
        return int(lc.line) + 1


def _describe_error(error: Any, document: CommentedMap, filename: str) -> str:
    loc = list(error["loc"])
    node: Any = document
    line = _line(document)
    column = None
    for part in loc:
        if isinstance(node, (CommentedMap, CommentedSeq)):
            line = _line(node, part) or line
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
            if isinstance(node, CommentedMap) and "name" in node and column is None:
                column = node["name"]
    field = str(loc[-1]) if loc and isinstance(loc[-1], str) else None
    kind = error["type"]
    if kind == "extra_forbidden":
        known = list(ColumnSpec.model_fields if column is not None else DataContract.model_fields)
        close = difflib.get_close_matches(str(field), known, n=1)
        text = f"unknown key {field!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif kind == "missing":
        text = f"missing key {field!r}"
    elif kind == "literal_error":
        text = f"{field} must be one of {error['ctx']['expected'].replace(chr(39), '')}"
    else:
        text = f"{field}: {error['msg']}" if field else error["msg"]
    prefix = f"{filename} line {line}" if line else filename
    return f"{prefix}: column {column!r}: {text}" if column is not None else f"{prefix}: {text}"


def _consistency_problems(document: CommentedMap, filename: str) -> list[str]:
    """Duplicated column names and an unknown target, located by line."""
    columns = document.get("columns")
    if not isinstance(columns, CommentedSeq):
        return []
    problems, seen = [], set()
    names = [c.get("name") for c in columns if isinstance(c, CommentedMap)]
    for index, block in enumerate(columns):
        name = block.get("name") if isinstance(block, CommentedMap) else None
        if name is not None and name in seen:
            problems.append(f"{filename} line {_line(columns, index)}: column {name!r} is repeated")
        seen.add(name)
    target = document.get("target")
    if target is not None and target not in names:
        close = difflib.get_close_matches(str(target), [str(n) for n in names], n=1)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        problems.append(
            f"{filename} line {_line(document, 'target')}: target {target!r} is not one of "
            f"the columns{suggestion}"
        )
    return problems

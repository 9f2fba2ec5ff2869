"""Reading ``loopml.yaml`` with errors that name the line, the key and the fix."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from loopml.charter._model import Charter
from loopml.errors import CharterError, NotFoundError

CHARTER_FILE = "loopml.yaml"


def load_charter(path: Path) -> Charter:
    """Read and validate a charter file.

    Raises:
        NotFoundError: the file does not exist.
        CharterError: the YAML is malformed or a value is invalid; the message names the file,
            the line and the key, and suggests the closest known key for a typo.
    """
    if not path.is_file():
        raise NotFoundError(
            f"No charter found at {path}.",
            hint="Run `loopml init --data FILE --target COLUMN` in the project folder, "
            "or pass --project DIR.",
        )
    text = path.read_text(encoding="utf-8")
    return parse_charter(text, source=str(path))


def parse_charter(text: str, *, source: str = CHARTER_FILE) -> Charter:
    """Validate charter YAML ``text``; ``source`` names it in error messages."""
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CharterError(
            f"{source}{where}: the YAML is malformed ({problem}).",
            hint="Check the indentation and quoting around that line.",
        ) from exc
    if not isinstance(document, dict):
        raise CharterError(
            f"{source}: a charter must be a mapping of keys to values.",
            hint="Start from the file `loopml init` writes.",
        )
    try:
        return Charter.model_validate(_plain(document))
    except ValidationError as exc:
        raise CharterError(_describe(exc, document, source), hint=_hint(exc)) from exc


def _plain(node: Any) -> Any:
    """ruamel's round-trip containers as plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _describe(exc: ValidationError, document: Any, source: str) -> str:
    messages = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = _line_of(document, loc)
        where = f"{source} line {line}" if line else source
        key = ".".join(str(p) for p in loc) or "(top level)"
        if error["type"] == "extra_forbidden":
            suggestion = _closest_key(loc)
            tip = f"; did you mean '{suggestion}'?" if suggestion else ""
            messages.append(f"{where}: unknown key '{key}'{tip}")
        elif error["type"] == "missing":
            messages.append(f"{where}: the key '{key}' is required")
        else:
            detail = error["msg"].removeprefix("Value error, ")
            messages.append(f"{where}: '{key}': {detail}" if loc else f"{where}: {detail}")
    text = "; ".join(messages)
    return text if text.endswith((".", "?")) else text + "."


def _hint(exc: ValidationError) -> str:
    if any(e["type"] == "extra_forbidden" for e in exc.errors()):
        return "Fix the key's spelling, or remove it."
    return "Edit loopml.yaml and run the command again."


def _line_of(document: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest key of ``loc`` present in the document."""
    node, line = document, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _closest_key(loc: tuple[Any, ...]) -> str | None:
    """The field name closest to the unknown key at ``loc``, looked up in the right section."""
    model: type[BaseModel] = Charter
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return None
    matches = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return matches[0] if matches else None

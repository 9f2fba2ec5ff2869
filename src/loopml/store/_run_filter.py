"""The run search language: a tokenizer and a recursive-descent parser into a small syntax tree.

Backend-neutral: a store compiles the tree into its own query language with every value bound as
a parameter (nothing the user typed is ever pasted into SQL or evaluated). Grammar::

    filter     := disjunct
    disjunct   := conjunct ("or" conjunct)*
    conjunct   := atom ("and" atom)*
    atom       := "(" disjunct ")" | comparison
    comparison := field op value | field "in" "(" value ("," value)* ")"
    field      := metrics.KEY | params.KEY | tags.KEY
                | kind | status | name | dataset_id | parent_id | start_time
    op         := "=" | "!=" | "<" | "<=" | ">" | ">=" | "like"

A KEY is a run of letters, digits, ``_ . - /`` or a back-quoted name (``tags.`my key```).
Metrics compare with numbers; params, tags and text attributes with quoted strings (``'…'`` or
``"…"``, a doubled quote escapes itself); ``start_time`` with an ISO-8601 string. ``like`` takes
SQL wildcards (``%``, ``_``) and ignores case. Keywords ignore case.

Ordering keys (:func:`parse_order_by`): ``metrics.KEY``, ``start_time`` or a text attribute,
followed by ``asc`` or ``desc``. Metrics and ``start_time`` default to ``desc`` (best/newest
first, the usual question), text attributes to ``asc``; runs without the metric come last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from loopml.errors import InvalidInputError

FieldKind = Literal["metric", "param", "tag", "attribute"]
Value = float | str | datetime

TEXT_ATTRIBUTES = ("kind", "status", "name", "dataset_id", "parent_id")
ATTRIBUTES = (*TEXT_ATTRIBUTES, "start_time")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "like", "in")
_PREFIXES: dict[str, FieldKind] = {"metrics": "metric", "params": "param", "tags": "tag"}
_KEYWORDS = {"and", "or", "in", "like", "asc", "desc"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<field>(?:metrics|params|tags)\.(?:`[^`]+`|[A-Za-z0-9_][A-Za-z0-9_./-]*))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # field, word, keyword, number, string, op, punct, end
    text: str
    position: int  # 1-based character position in the filter


@dataclass(frozen=True)
class Comparison:
    """``<kind>.<key> <op> <value>``; ``value`` is a tuple for ``in``."""

    kind: FieldKind
    key: str
    op: str
    value: Value | tuple[Value, ...]


@dataclass(frozen=True)
class BoolOp:
    """``and``/``or`` of two or more sub-filters."""

    op: Literal["and", "or"]
    items: tuple[Comparison | BoolOp, ...]


RunFilter = Comparison | BoolOp


@dataclass(frozen=True)
class OrderKey:
    kind: Literal["metric", "attribute"]
    key: str
    descending: bool


def _error(text: str, position: int, expected: str, got: str) -> InvalidInputError:
    marker = " " * (position - 1) + "^"
    return InvalidInputError(
        f"Invalid run filter at position {position}: expected {expected}, got {got}.",
        hint=f"In: {text}\n    {marker}\nFor example: metrics.roc_auc > 0.8 and "
        "params.family = 'lightgbm'.",
        details={"position": position, "expected": expected},
    )


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token.

    Raises:
        InvalidInputError: a character that starts no token (its position is named).
    """
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:
            raise _error(text, index + 1, "a field, value or operator", repr(text[index]))
        kind = match.lastgroup or ""
        word = match.group()
        if kind == "word" and word.lower() in _KEYWORDS:
            kind, word = "keyword", word.lower()
        elif kind == "op":
            word = {"==": "=", "<>": "!="}.get(word, word)
        if kind != "space":
            tokens.append(Token(kind, word, index + 1))
        index = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str) -> InvalidInputError:
        token = self.current
        got = "the end of the filter" if token.kind == "end" else repr(token.text)
        return _error(self.text, token.position, expected, got)

    def accept(self, kind: str, text: str | None = None) -> bool:
        token = self.current
        if token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return True
        return False

    def disjunct(self) -> RunFilter:
        items = [self.conjunct()]
        while self.accept("keyword", "or"):
            items.append(self.conjunct())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def conjunct(self) -> RunFilter:
        items = [self.atom()]
        while self.accept("keyword", "and"):
            items.append(self.atom())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def atom(self) -> RunFilter:
        if self.accept("punct", "("):
            inner = self.disjunct()
            if not self.accept("punct", ")"):
                raise self.fail("')' or 'and'/'or'")
            return inner
        return self.comparison()

    def field(self) -> tuple[FieldKind, str]:
        token = self.current
        if token.kind == "field":
            self.advance()
            prefix, _, key = token.text.partition(".")
            return _PREFIXES[prefix], key.strip("`")
        if token.kind == "word" and token.text in ATTRIBUTES:
            self.advance()
            return "attribute", token.text
        raise self.fail(
            "a field (metrics.KEY, params.KEY, tags.KEY or one of " + ", ".join(ATTRIBUTES) + ")"
        )

    def comparison(self) -> Comparison:
        kind, key = self.field()
        token = self.current
        if token.kind == "op" or (token.kind == "keyword" and token.text in ("like", "in")):
            op = self.advance().text
        else:
            raise self.fail("an operator (=, !=, <, <=, >, >=, LIKE or IN)")
        if op == "like" and kind == "metric":
            raise _error(self.text, token.position, "a numeric operator for a metric", "LIKE")
        if op != "in":
            return Comparison(kind, key, op, self.value(kind, key))
        if not self.accept("punct", "("):
            raise self.fail("'(' to open the IN list")
        values = [self.value(kind, key)]
        while self.accept("punct", ","):
            values.append(self.value(kind, key))
        if not self.accept("punct", ")"):
            raise self.fail("',' or ')' in the IN list")
        return Comparison(kind, key, op, tuple(values))

    def value(self, kind: FieldKind, key: str) -> Value:
        token = self.current
        if kind == "metric":
            if token.kind != "number":
                raise self.fail(f"a number to compare metrics.{key} with")
            self.advance()
            return float(token.text)
        if token.kind != "string":
            name = key if kind == "attribute" else f"{kind}s.{key}"
            raise self.fail(f"a quoted string to compare {name} with")
        self.advance()
        quote = token.text[0]
        text = token.text[1:-1].replace(quote * 2, quote)
        if key == "start_time" and kind == "attribute":
            return _timestamp(self.text, token, text)
        return text


def _timestamp(filter_text: str, token: Token, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _error(filter_text, token.position, "an ISO-8601 time", repr(text)) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_run_filter(text: str | None) -> RunFilter | None:
    """The syntax tree of ``text`` (None for an empty or missing filter).

    Raises:
        InvalidInputError: ``text`` does not follow the grammar; the message names the position
            and what was expected there.
    """
    if text is None or not text.strip():
        return None
    parser = _Parser(text)
    tree = parser.disjunct()
    if parser.current.kind != "end":
        raise parser.fail("'and', 'or' or the end of the filter")
    return tree


def parse_order_by(keys: list[str] | None) -> list[OrderKey]:
    """Parse ordering keys such as ``metrics.roc_auc desc`` or ``start_time asc``.

    Raises:
        InvalidInputError: a key is not ``metrics.KEY``/an attribute optionally followed by
            ``asc``/``desc``.
    """
    out: list[OrderKey] = []
    for text in keys or []:
        tokens = tokenize(text)
        first = tokens[0]
        if first.kind == "field" and first.text.startswith("metrics."):
            kind: Literal["metric", "attribute"] = "metric"
            key = first.text.partition(".")[2].strip("`")
        elif first.kind == "word" and first.text in ATTRIBUTES:
            kind, key = "attribute", first.text
        else:
            got = "nothing" if first.kind == "end" else repr(first.text)
            raise _order_error(text, first.position, "metrics.KEY or " + ", ".join(ATTRIBUTES), got)
        descending = kind == "metric" or key == "start_time"
        rest = tokens[1:]
        if rest[0].kind == "keyword" and rest[0].text in ("asc", "desc"):
            descending = rest[0].text == "desc"
            rest = rest[1:]
        if rest[0].kind != "end":
            raise _order_error(
                text, rest[0].position, "'asc', 'desc' or the end", repr(rest[0].text)
            )
        out.append(OrderKey(kind, key, descending))
    return out


def _order_error(text: str, position: int, expected: str, got: str) -> InvalidInputError:
    return InvalidInputError(
        f"Invalid order key {text!r} at position {position}: expected {expected}, got {got}.",
        hint="For example: --order-by 'metrics.roc_auc desc' or --order-by start_time.",
        details={"position": position, "expected": expected},
    )

"""The run search language: a tokenizer and a recursive-descent parser into a small syntax tree.

Backend-neutral: a store compiles the tree into its own query language with every value bound as
a parameter (nothing the user typed is ever pasted into SQL or evaluated). Grammar::

    filter     := disjunct
    disjunct   := conjunct ("or" conjunct)*
    conjunct   := atom ("and" atom)*
    atom       := "not" atom | "(" disjunct ")" | comparison
    comparison := field op value
                | field ["not"] "in" "(" value ("," value)* ")"
                | field ["not"] ("like" | "ilike") value
                | field "is" ["not"] "null"
    field      := metrics.KEY | params.KEY | tags.KEY
                | [attributes.] (run_id | name | run_name | kind | status | dataset_id
                                 | parent_id | start_time | end_time)
    op         := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="

A KEY is a run of letters, digits, ``_ . - /`` or a quoted name (``tags.`my key``` or
``tags."my key"``); ``metric.``, ``param.``, ``tag.`` and ``attribute.`` are accepted too, as in
MLflow. Metrics compare with numbers; params, tags and text attributes with quoted strings
(``'…'`` or ``"…"``, a doubled quote escapes itself); ``start_time``/``end_time`` with an
ISO-8601 string. ``like`` and ``ilike`` take SQL wildcards (``%``, ``_``) and both ignore case.
Keywords ignore case.

Missing values: a comparison on a metric, param or tag holds only for runs that have the key
(``!=``, ``not in`` and ``not like`` included); ``IS NULL`` selects the runs without it (for a
metric: without a value, missing or NaN) and ``IS NOT NULL`` those with it. ``not`` negates
whatever follows, so ``not metrics.auc > 0.8`` also selects runs without ``auc``.

Ordering keys (:func:`parse_order_by`): ``metrics.KEY``, ``start_time``/``end_time`` or a text
attribute, followed by ``asc`` or ``desc``. Metrics and times default to ``desc`` (best/newest
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

TEXT_ATTRIBUTES = ("id", "kind", "status", "name", "dataset_id", "parent_id")
TIME_ATTRIBUTES = ("start_time", "end_time")
ATTRIBUTES = (*TEXT_ATTRIBUTES, *TIME_ATTRIBUTES)
ATTRIBUTE_ALIASES = {"run_id": "id", "run_name": "name"}
"""MLflow's names for loopml's run attributes."""
OPERATORS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "like",
    "not like",
    "in",
    "not in",
    "is null",
    "is not null",
)
_PREFIXES: dict[str, FieldKind] = {
    "metrics": "metric",
    "metric": "metric",
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
}
_ATTRIBUTE_PREFIXES = ("attributes", "attribute", "attr")
_KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "is", "null", "asc", "desc"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<field>(?:metrics?|params?|tags?|attributes?|attr)
        \.(?:`[^`]+`|"[^"]+"|[A-Za-z0-9_][A-Za-z0-9_./-]*))
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
    """``<kind>.<key> <op> <value>``: ``op`` is one of :data:`OPERATORS` (``ilike`` is read as
    ``like``); ``value`` is a tuple for ``in``/``not in`` and None for ``is [not] null``."""

    kind: FieldKind
    key: str
    op: str
    value: Value | tuple[Value, ...] | None


@dataclass(frozen=True)
class BoolOp:
    """``and``/``or`` of two or more sub-filters."""

    op: Literal["and", "or"]
    items: tuple[RunFilter, ...]


@dataclass(frozen=True)
class Not:
    """``not <item>``."""

    item: RunFilter


RunFilter = Comparison | BoolOp | Not


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
        if self.accept("keyword", "not"):
            return Not(self.atom())
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
            key = key.strip("`") if key.startswith("`") else key.strip('"')
            if prefix.lower() not in _ATTRIBUTE_PREFIXES:
                return _PREFIXES[prefix.lower()], key
            name = ATTRIBUTE_ALIASES.get(key, key)
            if name in ATTRIBUTES:
                return "attribute", name
            raise _error(self.text, token.position, "a run attribute", repr(token.text))
        if token.kind == "word" and ATTRIBUTE_ALIASES.get(token.text, token.text) in ATTRIBUTES:
            self.advance()
            return "attribute", ATTRIBUTE_ALIASES.get(token.text, token.text)
        raise self.fail(
            "a field (metrics.KEY, params.KEY, tags.KEY or one of "
            + ", ".join((*ATTRIBUTES, *ATTRIBUTE_ALIASES))
            + ")"
        )

    def comparison(self) -> Comparison:
        kind, key = self.field()
        token = self.current
        if token.kind == "keyword" and token.text == "is":
            self.advance()
            negated = self.accept("keyword", "not")
            if not self.accept("keyword", "null"):
                raise self.fail("NULL (or NOT NULL) after IS")
            return Comparison(kind, key, "is not null" if negated else "is null", None)
        negated = self.accept("keyword", "not")
        token = self.current
        if token.kind == "keyword" and token.text in ("like", "ilike", "in"):
            op = {"ilike": "like"}.get(self.advance().text, token.text)
        elif token.kind == "op" and not negated:
            op = self.advance().text
        else:
            expected = (
                "IN, LIKE or ILIKE after NOT"
                if negated
                else ("an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT or IS)")
            )
            raise self.fail(expected)
        if op == "like" and kind == "metric":
            raise _error(self.text, token.position, "a numeric operator for a metric", "LIKE")
        prefix = "not " if negated else ""
        if op != "in":
            return Comparison(kind, key, prefix + op, self.value(kind, key))
        if not self.accept("punct", "("):
            raise self.fail("'(' to open the IN list")
        values = [self.value(kind, key)]
        while self.accept("punct", ","):
            values.append(self.value(kind, key))
        if not self.accept("punct", ")"):
            raise self.fail("',' or ')' in the IN list")
        return Comparison(kind, key, prefix + op, tuple(values))

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
        if key in TIME_ATTRIBUTES and kind == "attribute":
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
        prefix, _, rest_of_field = first.text.partition(".")
        if first.kind == "field" and _PREFIXES.get(prefix.lower()) == "metric":
            kind: Literal["metric", "attribute"] = "metric"
            key = (
                rest_of_field.strip("`")
                if rest_of_field.startswith("`")
                else rest_of_field.strip('"')
            )
        elif first.kind == "word" and ATTRIBUTE_ALIASES.get(first.text, first.text) in ATTRIBUTES:
            kind, key = "attribute", ATTRIBUTE_ALIASES.get(first.text, first.text)
        elif (
            first.kind == "field"
            and prefix.lower() in _ATTRIBUTE_PREFIXES
            and ATTRIBUTE_ALIASES.get(rest_of_field, rest_of_field) in ATTRIBUTES
        ):
            kind, key = "attribute", ATTRIBUTE_ALIASES.get(rest_of_field, rest_of_field)
        else:
            got = "nothing" if first.kind == "end" else repr(first.text)
            raise _order_error(text, first.position, "metrics.KEY or " + ", ".join(ATTRIBUTES), got)
        descending = kind == "metric" or key in TIME_ATTRIBUTES
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

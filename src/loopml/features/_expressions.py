"""Safe arithmetic expressions for derived features, parsed with :mod:`ast`, never evaluated.

An expression such as ``log1p(income) - log1p(debt)`` or ``amount / max(days, 1)`` is parsed by
Python's :mod:`ast` and checked against a strict whitelist: numbers, column names, ``+ - * / **``,
unary minus/plus and calls to :data:`FUNCTIONS`. Anything else (attribute access, subscripts,
lambdas, comprehensions, keyword arguments, strings, comparisons, unknown names or functions) is
refused with one sentence naming the feature and the problem. The user's text is never given to
``eval`` or ``compile``.

A checked expression becomes a *program*: nested tuples of strings and floats (``("col", "x")``,
``("num", 2.0)``, ``("op", "/", a, b)``, ``("neg", a)``, ``("call", "log", (a,))``) that
:func:`evaluate` computes over whole numpy columns at once. Plain tuples pickle and load with
skops without trusting any extra type.

Undefined results are NaN, never errors: division by zero, ``log``/``log1p``/``sqrt`` outside
their domain, overflow to infinity. The model's imputation then fills them like any missing
value.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Mapping
from typing import Any

import numpy as np

from loopml.errors import InvalidInputError

Program = tuple[Any, ...]
"""A checked expression as nested tuples (see the module docstring)."""

FUNCTIONS: dict[str, tuple[int, int]] = {
    "log": (1, 1),
    "log1p": (1, 1),
    "sqrt": (1, 1),
    "abs": (1, 1),
    "exp": (1, 1),
    "min": (2, 8),
    "max": (2, 8),
}
"""The functions an expression may call, with their least and most number of arguments."""

_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}

_UFUNCS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.log,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "exp": np.exp,
}

_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "**": np.power,
}


def _refuse(feature: str, problem: str) -> InvalidInputError:
    return InvalidInputError(
        f"The derived feature {feature!r} {problem}.",
        hint="Use numbers, column names, + - * / **, and "
        f"{', '.join(f'{name}()' for name in FUNCTIONS)}.",
    )


def parse_expression(feature: str, expr: str, columns: Collection[str]) -> Program:
    """Check ``expr`` (the formula of derived feature ``feature``) and return its program.

    ``columns`` are the names the expression may read.

    Raises:
        InvalidInputError: a syntax error, a construct outside the whitelist, an unknown column
            or function, or a wrong number of arguments (the message names the feature).
    """
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise _refuse(feature, f"has a syntax error in {expr!r} ({exc.msg})") from None
    return _program(feature, tree.body, set(columns))


def _program(feature: str, node: ast.AST, columns: set[str]) -> Program:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _refuse(feature, f"uses the constant {node.value!r}; only numbers are allowed")
        return ("num", float(node.value))
    if isinstance(node, ast.Name):
        if node.id not in columns:
            known = ", ".join(sorted(columns)) or "none"
            raise _refuse(feature, f"uses the unknown column {node.id!r} (columns: {known})")
        return ("col", node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _program(feature, node.left, columns), _program(feature, node.right, columns)
        return ("op", _OPERATORS[type(node.op)], left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _program(feature, node.operand, columns)
        return ("neg", operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return _call(feature, node, columns)
    raise _refuse(feature, f"uses {_describe(node)}, which is not allowed")


def _call(feature: str, node: ast.Call, columns: set[str]) -> Program:
    if not isinstance(node.func, ast.Name):
        raise _refuse(
            feature, f"calls {_describe(node.func)}; only plain function names are allowed"
        )
    name = node.func.id
    if name not in FUNCTIONS:
        raise _refuse(feature, f"calls the unknown function {name!r}")
    if node.keywords:
        raise _refuse(feature, f"passes keyword arguments to {name}(), which is not allowed")
    low, high = FUNCTIONS[name]
    if not low <= len(node.args) <= high:
        count = str(low) if low == high else f"{low} to {high}"
        raise _refuse(
            feature, f"calls {name}() with {len(node.args)} argument(s); it takes {count}"
        )
    args = tuple(_program(feature, arg, columns) for arg in node.args)
    return ("call", name, args)


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "attribute access",
        ast.Subscript: "a subscript",
        ast.Lambda: "a lambda",
        ast.Compare: "a comparison",
        ast.BoolOp: "a boolean operator",
        ast.IfExp: "a conditional expression",
        ast.Starred: "argument unpacking",
    }
    for kind, text in names.items():
        if isinstance(node, kind):
            return text
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    return f"a {type(node).__name__} expression"


def columns_of(program: Program) -> set[str]:
    """The column names ``program`` reads."""
    kind = program[0]
    if kind == "col":
        return {program[1]}
    if kind == "num":
        return set()
    if kind == "op":
        return columns_of(program[2]) | columns_of(program[3])
    if kind == "neg":
        return columns_of(program[1])
    return set().union(*(columns_of(arg) for arg in program[2]))


def evaluate(program: Program, columns: Mapping[str, np.ndarray], n_rows: int) -> np.ndarray:
    """``program`` computed over float64 ``columns`` (each of ``n_rows`` values).

    Undefined values (division by zero, log of a non-positive number, overflow) are NaN.
    """
    with np.errstate(all="ignore"):
        values = np.asarray(_run(program, columns, n_rows), dtype="float64")
    values = np.broadcast_to(values, (n_rows,)).copy()
    values[~np.isfinite(values)] = np.nan
    return values


def _run(program: Program, columns: Mapping[str, np.ndarray], n_rows: int) -> Any:
    kind = program[0]
    if kind == "num":
        return program[1]
    if kind == "col":
        return columns[program[1]]
    if kind == "neg":
        return np.negative(_run(program[1], columns, n_rows))
    if kind == "op":
        left = _run(program[2], columns, n_rows)
        right = _run(program[3], columns, n_rows)
        return _BINARY[program[1]](left, right)
    name, args = program[1], [_run(arg, columns, n_rows) for arg in program[2]]
    if name in _UFUNCS:
        return _UFUNCS[name](args[0])
    # min/max of several columns: NaN in any argument gives NaN (a missing input is unknown).
    reduce = np.minimum if name == "min" else np.maximum
    out = args[0]
    for arg in args[1:]:
        out = reduce(out, arg)
    return out

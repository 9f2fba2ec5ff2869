"""LightGBM trees as bit-vector tables: a forest scored with no branch per node (QuickScorer).

Every tree's leaves are numbered left to right, and a row's leaf is the leftmost one that no
*false* node (a split the row does not take to the left) rules out: the leaves of that node's
left subtree. This is QuickScorer's observation (Lucchese et al., SIGIR 2015). Here it is taken one
step further: the thresholds of each feature split the feature's values into
bins, and for every bin the module precomputes, per tree, the mask of leaves still possible after
all the feature's nodes in that tree. Scoring a row is then, per feature, a bin look-up and an AND
of one table row into the row's masks (vectorized, no data-dependent branch; the bin comes from a
uniform grid and two branch-free steps), and per tree a count of trailing zeros to find the leaf.
Rows go in blocks of :data:`BLOCK` so the per-tree sums of a block form independent chains.

Results equal ``Booster.predict``'s bit for bit before the objective's transform: decisions follow
LightGBM's rules (``x <= threshold`` in float64, its three missing-value types with
``kZeroThreshold``, categories truncated to ``int`` and looked up in the split's bitset, NaN and
negatives to the right), and each row sums its trees in LightGBM's order. Measured on the batch
benchmark's model (300 trees of 31 leaves, 15 numeric and 5 categorical features, one core):
1,000 ns a row for the masks and sums, about 250 ns for the bin look-ups; the same trees compiled
to machine code by LLVM take 4,200 ns, ``Booster.predict`` 28,000 ns. Building the tables takes
about 0.1 s, where LLVM takes 10 s.

:func:`build_tables` refuses (:class:`UnsupportedModel`) what this layout cannot hold: trees of
more than :data:`MAX_LEAVES` leaves, linear trees, tables over :data:`MAX_TABLE_BYTES`, an
objective whose transform is not known here, a threshold inside LightGBM's zero band.
:mod:`loopml.serve._compiled_trees` then uses the LLVM path instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic

MAX_LEAVES = 64
"""Leaves of the widest tree a table holds: a leaf is one bit of a 64-bit mask."""

MAX_TABLE_BYTES = 128 << 20
"""Largest table built; a bigger model (many features, bins and trees) stays on the LLVM path."""

BLOCK = 64
"""Rows scored together: their masks (``BLOCK`` x trees) stay in the first-level cache."""

GRID_PER_THRESHOLD = 4
"""Cells of a numeric feature's look-up grid per threshold; a cell holds about one threshold."""

ZERO_THRESHOLD = 1e-35
"""LightGBM's ``kZeroThreshold``: ``|x|`` up to it is zero for the ``Zero`` missing type."""

_NONE, _ZERO, _NAN = 0, 1, 2
"""LightGBM's missing types, bits 2-3 of ``decision_type``."""

__all__ = ["MAX_LEAVES", "TreeTables", "UnsupportedModel", "build_tables"]


class UnsupportedModel(ValueError):
    """The model cannot be laid out as tables (the message says why)."""


@dataclass(frozen=True)
class TreeTables:
    """A LightGBM model's trees as per-feature bin tables, ready for :meth:`score`.

    ``table`` holds, for each used feature and each of its bins, one mask per tree (``uint32``
    when every tree has at most 32 leaves, else ``uint64``); its first row is all ones.
    """

    n_features: int
    n_outputs: int
    features: np.ndarray  # used feature columns, int64
    categorical: np.ndarray  # per used feature, bool
    bins: np.ndarray  # per used feature: thresholds (numeric) or categories covered (categorical)
    table_offset: np.ndarray  # per used feature: its first table entry
    thresholds: np.ndarray  # each numeric feature's sorted thresholds, then +inf; float64
    threshold_offset: np.ndarray
    grid: np.ndarray  # per numeric feature: thresholds below each cell's left edge, int64
    grid_offset: np.ndarray
    grid_size: np.ndarray
    grid_low: np.ndarray
    grid_scale: np.ndarray
    table: np.ndarray
    leaf_values: np.ndarray  # tree t's leaf j (left to right) at t * leaf_stride + j
    leaf_stride: int
    tree_output: np.ndarray  # the output (class) each tree adds to, int64
    objective: str
    average_over: int  # iterations to divide the sums by (random-forest mode), else 1

    def raw_scores(self, X: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Sums of the trees (``Booster.predict(raw_score=True)``) for rows ``start:stop`` of
        ``X``, a C-contiguous float64 matrix of ``n_features`` columns; shape (rows, outputs)."""
        stop = len(X) if stop is None else stop
        raw = np.empty((stop - start, self.n_outputs))
        self.raw_scores_into(X, raw, start, stop)
        return raw

    def raw_scores_into(self, X: np.ndarray, raw: np.ndarray, start: int, stop: int) -> None:
        """:meth:`raw_scores` written into ``raw[0:stop-start]``; releases the GIL while it runs."""
        _score_rows(
            X, start, stop, self.features, self.categorical, self.bins, self.table_offset,
            self.thresholds, self.threshold_offset, self.grid, self.grid_offset, self.grid_size,
            self.grid_low, self.grid_scale, self.table, self.leaf_values, self.leaf_stride,
            self.tree_output, raw,
        )  # fmt: skip

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """The model's output for raw sums, as ``Booster.predict`` returns it (in place): the
        average over iterations in random-forest mode, then the objective's transform."""
        if self.average_over > 1:
            raw /= self.average_over
        return _transform(self.objective, raw)


def build_tables(text: str) -> TreeTables:
    """The tables of the LightGBM model whose text (``Booster.model_to_string``) is ``text``.

    Raises :class:`UnsupportedModel` for what the layout cannot hold (see the module docstring).
    """
    header, trees = _parse(text)
    n_outputs = int(header.get("num_tree_per_iteration", "1"))
    n_features = int(header["max_feature_idx"]) + 1
    objective = header.get("objective", "regression")
    _transform(objective, np.zeros((1, n_outputs)))  # refuses an unknown objective now
    if not trees:
        raise UnsupportedModel("the model has no trees")
    widest = max(tree.n_leaves for tree in trees)
    if widest > MAX_LEAVES:
        raise UnsupportedModel(f"a tree has {widest} leaves (at most {MAX_LEAVES} fit a mask)")
    dtype = np.dtype(np.uint32 if widest <= 32 else np.uint64)
    stride = 32 if widest <= 32 else 64
    n_trees = len(trees)
    leaf_values = np.zeros(n_trees * stride)
    nodes_by_feature: dict[int, list[_Node]] = {}
    for t, tree in enumerate(trees):
        leaf_values[t * stride : t * stride + tree.n_leaves] = tree.leaf_values_in_order
        for node in tree.nodes:
            nodes_by_feature.setdefault(node.feature, []).append(node)
    features = sorted(nodes_by_feature)
    layouts = [_layout(nodes_by_feature[f], f, n_trees, dtype) for f in features]
    size = (1 + sum(len(lay.masks) for lay in layouts)) * n_trees * dtype.itemsize
    if size > MAX_TABLE_BYTES:
        raise UnsupportedModel(f"its tables would take {size / 2**20:,.0f} MiB")
    table = np.concatenate([np.full(n_trees, np.iinfo(dtype.type).max, dtype)] + [
        lay.masks.ravel() for lay in layouts
    ])  # fmt: skip
    row_counts = np.array([len(lay.masks) for lay in layouts], dtype=np.int64)
    table_offset = n_trees * (1 + np.concatenate([[0], np.cumsum(row_counts)[:-1]]))
    numeric = [lay for lay in layouts if not lay.categorical]
    thresholds = _concat([np.append(lay.thresholds, np.inf) for lay in numeric], np.float64)
    grids = [_grid(lay.thresholds) for lay in numeric]
    grid = _concat([g[0] for g in grids], np.int64)
    threshold_offset = np.zeros(len(layouts), dtype=np.int64)
    grid_offset = np.zeros(len(layouts), dtype=np.int64)
    grid_size = np.zeros(len(layouts), dtype=np.int64)
    grid_low = np.zeros(len(layouts))
    grid_scale = np.zeros(len(layouts))
    position = cell = k = 0
    for j, lay in enumerate(layouts):
        if lay.categorical:
            continue
        cells, low, scale = grids[k]
        threshold_offset[j], grid_offset[j], grid_size[j] = position, cell, len(cells)
        grid_low[j], grid_scale[j] = low, scale
        position += len(lay.thresholds) + 1  # and the +inf that ends them
        cell += len(cells)
        k += 1
    average = "average_output" in header
    return TreeTables(
        n_features=n_features,
        n_outputs=n_outputs,
        features=np.asarray(features, dtype=np.int64),
        categorical=np.array([lay.categorical for lay in layouts], dtype=np.bool_),
        bins=np.array([lay.bins for lay in layouts], dtype=np.int64),
        table_offset=table_offset.astype(np.int64),
        thresholds=thresholds,
        threshold_offset=threshold_offset,
        grid=grid,
        grid_offset=grid_offset,
        grid_size=grid_size,
        grid_low=grid_low,
        grid_scale=grid_scale,
        table=table,
        leaf_values=leaf_values,
        leaf_stride=stride,
        tree_output=np.arange(n_trees, dtype=np.int64) % n_outputs,
        objective=objective,
        average_over=max(1, n_trees // n_outputs) if average else 1,
    )


# -- the model text ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    tree: int
    feature: int
    threshold: float  # numeric splits
    categories: np.ndarray | None  # categorical splits: the bitset's 32-bit words
    default_left: bool
    missing: int
    left_leaves: int  # mask of the leaves of the left subtree


@dataclass(frozen=True)
class _Tree:
    n_leaves: int
    leaf_values_in_order: np.ndarray
    nodes: list[_Node]


def _parse(text: str) -> tuple[dict[str, str], list[_Tree]]:
    head, _, rest = text.partition("\nTree=")
    header = _fields(head)
    if "max_feature_idx" not in header:
        raise UnsupportedModel("the text is not a LightGBM model")
    blocks = ("Tree=" + rest).split("end of trees")[0].split("\nTree=") if rest else []
    return header, [_tree(t, _fields(block)) for t, block in enumerate(blocks)]


def _fields(block: str) -> dict[str, str]:
    out = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        out[key.strip()] = value.strip() if sep else ""
    return out


def _array(fields: dict[str, str], key: str, dtype: type) -> np.ndarray:
    value = fields.get(key, "")
    return np.array(value.split(), dtype=dtype) if value else np.zeros(0, dtype=dtype)


def _tree(index: int, fields: dict[str, str]) -> _Tree:
    if fields.get("is_linear", "0") not in ("", "0"):
        raise UnsupportedModel("it has linear trees")
    n_leaves = int(fields["num_leaves"])
    values = _array(fields, "leaf_value", np.float64)
    if n_leaves == 1:
        return _Tree(1, values[:1], [])
    if n_leaves > MAX_LEAVES:
        return _Tree(n_leaves, values, [])
    feature = _array(fields, "split_feature", np.int64)
    threshold = _array(fields, "threshold", np.float64)
    decision = _array(fields, "decision_type", np.int64)
    left, right = _array(fields, "left_child", np.int64), _array(fields, "right_child", np.int64)
    bounds = _array(fields, "cat_boundaries", np.int64)
    words = _array(fields, "cat_threshold", np.uint32)
    order: list[int] = []  # leaf indices, left to right
    nodes: list[_Node] = []

    def walk(child: int) -> int:
        """Numbers ``child``'s leaves in order; returns their mask."""
        if child < 0:
            order.append(~child)
            return 1 << (len(order) - 1)
        left_mask = walk(int(left[child]))
        right_mask = walk(int(right[child]))
        kind = int(decision[child])
        categories = None
        if kind & 1:
            at = int(threshold[child])
            categories = words[bounds[at] : bounds[at + 1]]
        nodes.append(
            _Node(index, int(feature[child]), float(threshold[child]), categories,
                  bool(kind & 2), (kind >> 2) & 3, left_mask)
        )  # fmt: skip
        return left_mask | right_mask

    walk(0)
    return _Tree(n_leaves, values[np.asarray(order)], nodes)


# -- the tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    categorical: bool
    bins: int  # numeric: thresholds (bins 0..bins, then NaN, then zero); categorical: categories
    thresholds: np.ndarray
    masks: np.ndarray  # (rows, trees)


def _layout(nodes: list[_Node], feature: int, n_trees: int, dtype: np.dtype) -> _Layout:
    """One feature's bins and, per bin and tree, the mask of leaves its nodes leave possible."""
    kinds = {node.categories is not None for node in nodes}
    if len(kinds) > 1:
        raise UnsupportedModel(f"feature {feature} has both numeric and categorical splits")
    ones = int(np.iinfo(dtype.type).max)
    if kinds == {True}:
        covered = max(32 * len(node.categories) for node in nodes if node.categories is not None)
        masks = np.full((covered + 1, n_trees), ones, dtype=dtype)  # the last row: not covered
        for node in nodes:
            assert node.categories is not None
            codes = np.arange(32 * len(node.categories))
            goes_left = (node.categories[codes // 32] >> (codes % 32).astype(np.uint32)) & 1
            right = np.ones(covered + 1, dtype=bool)
            right[codes] = goes_left == 0
            masks[right, node.tree] &= dtype.type(~node.left_leaves & ones)
        return _Layout(True, covered, np.zeros(0), masks)
    thresholds = np.unique(np.array([node.threshold for node in nodes]))
    n = len(thresholds)
    masks = np.full((n + 3, n_trees), ones, dtype=dtype)  # bins 0..n, NaN, zero
    zero_band = thresholds[(thresholds >= -ZERO_THRESHOLD) & (thresholds < ZERO_THRESHOLD)]
    for node in nodes:
        clear = dtype.type(~node.left_leaves & ones)
        rank = int(np.searchsorted(thresholds, node.threshold))
        masks[rank + 1 : n + 1, node.tree] &= clear  # x above the threshold goes right
        if node.missing == _NONE:  # NaN is 0.0, and zero is compared as it is
            nan_left = zero_left = node.threshold >= 0.0
        elif node.missing == _ZERO:  # NaN is 0.0, which is missing
            nan_left = zero_left = node.default_left
        else:  # NaN is missing; zero is compared as it is
            nan_left, zero_left = node.default_left, node.threshold >= 0.0
        if node.missing != _ZERO and len(zero_band):
            raise UnsupportedModel(f"feature {feature} has a threshold within +-1e-35 of zero")
        if not nan_left:
            masks[n + 1, node.tree] &= clear
        if not zero_left:
            masks[n + 2, node.tree] &= clear
    return _Layout(False, n, thresholds, masks)


def _grid(thresholds: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A uniform grid over the thresholds' range: per cell, how many thresholds lie below its left
    edge. The kernel starts from the cell before the one it computes (so rounding can never start
    it past the answer) and steps over the few thresholds left."""
    low, high = float(thresholds[0]), float(thresholds[-1])
    cells = GRID_PER_THRESHOLD * len(thresholds)
    if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
        return np.zeros(1, dtype=np.int64), low, 0.0
    scale = cells / (high - low)
    if not np.isfinite(scale):
        return np.zeros(1, dtype=np.int64), low, 0.0
    edges = low + np.arange(cells) / scale
    return np.searchsorted(thresholds, edges, side="left").astype(np.int64), low, scale


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(1, dtype=dtype)


# -- objectives ----------------------------------------------------------------------------------

_IDENTITY = {
    "regression", "regression_l1", "huber", "fair", "quantile", "mape", "lambdarank",
    "rank_xendcg", "custom", "none",
}  # fmt: skip


def _transform(objective: str, raw: np.ndarray) -> np.ndarray:
    """``raw`` turned into ``Booster.predict``'s output for ``objective`` (the text's line)."""
    name, *options = objective.split()
    params = dict(option.split(":", 1) for option in options if ":" in option)
    if name in ("binary", "multiclassova"):
        scale = float(params.get("sigmoid", "1"))
        return np.divide(1.0, 1.0 + np.exp(-scale * raw, out=raw), out=raw)
    if name in ("cross_entropy", "xentropy"):
        return np.divide(1.0, 1.0 + np.exp(-raw, out=raw), out=raw)
    if name in ("cross_entropy_lambda", "xentlambda"):
        return np.log1p(np.exp(raw, out=raw), out=raw)
    if name == "multiclass":
        raw -= raw.max(axis=1, keepdims=True)
        np.exp(raw, out=raw)
        raw /= raw.sum(axis=1, keepdims=True)
        return raw
    if name in ("poisson", "gamma", "tweedie"):
        return np.exp(raw, out=raw)
    if name in ("regression", "regression_l2") and "sqrt" in options:
        return np.multiply(np.sign(raw), raw * raw, out=raw)
    if name in _IDENTITY or name.startswith("regression"):
        return raw
    raise UnsupportedModel(f"its objective {name!r} has no known output transform here")


def row_transform(objective: str, average_over: int) -> Callable[[list[float]], list[float]]:
    """:func:`_transform` for one row, in plain floats (numpy's per-call costs would be most of a
    single record's time); the same formulas, so results agree to the last bit or so.

    Raises:
        UnsupportedModel: the objective has no known transform.
    """
    _transform(objective, np.zeros((1, 1)))  # refuses an unknown objective here too
    name, *options = objective.split()
    params = dict(option.split(":", 1) for option in options if ":" in option)
    exp = math.exp
    if name in ("binary", "multiclassova", "cross_entropy", "xentropy"):
        scale = -float(params.get("sigmoid", "1")) if name in ("binary", "multiclassova") else -1.0
        scale /= average_over
        return lambda raw: [1.0 / (1.0 + exp(scale * value)) for value in raw]
    if name in ("cross_entropy_lambda", "xentlambda"):
        return lambda raw: [math.log1p(exp(value / average_over)) for value in raw]
    if name == "multiclass":

        def softmax(raw: list[float]) -> list[float]:
            top = max(raw)
            shares = [exp((value - top) / average_over) for value in raw]
            total = sum(shares)
            return [share / total for share in shares]

        return softmax
    if name in ("poisson", "gamma", "tweedie"):
        return lambda raw: [exp(value / average_over) for value in raw]
    if name in ("regression", "regression_l2") and "sqrt" in options:
        return lambda raw: [math.copysign(v * v, v) for v in (x / average_over for x in raw)]
    if average_over > 1:
        return lambda raw: [value / average_over for value in raw]
    return lambda raw: raw


# -- the kernel ----------------------------------------------------------------------------------


@intrinsic
def _trailing_zeros(typingctx, mask):  # type: ignore[no-untyped-def]
    """LLVM's ``cttz`` (one instruction, ``tzcnt``) on an unsigned mask that is never zero."""
    width = mask.bitwidth

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        kind = ir.IntType(width)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(kind, [kind, ir.IntType(1)]), f"llvm.cttz.i{width}"
        )
        return builder.call(function, [args[0], ir.Constant(ir.IntType(1), 1)])

    return mask(mask), codegen


@numba.njit(nogil=True, cache=True)
def _bin(x, thresholds, first, grid, cell0, cells, low, scale):  # type: ignore[no-untyped-def]
    """How many of a numeric feature's sorted thresholds (``thresholds[first:]``, ended by +inf)
    lie below ``x`` (not NaN). The grid's cell before ``x``'s is a lower bound, a threshold or so
    below the answer: two steps without a branch, then a loop that rarely runs."""
    position = (x - low) * scale
    if position >= cells:
        cell = cells - 1
    elif position >= 1.0:
        cell = np.int64(position) - 1
    else:
        cell = 0
    at = grid[cell0 + cell]
    at += np.int64(thresholds[first + at] < x)
    at += np.int64(thresholds[first + at] < x)
    while thresholds[first + at] < x:
        at += 1
    return at


@numba.njit(nogil=True, cache=True)
def _score_rows(  # type: ignore[no-untyped-def]
    X, start, stop, features, categorical, bins, table_offset, thresholds, threshold_offset,
    grid, grid_offset, grid_size, grid_low, grid_scale, table, leaf_values, leaf_stride,
    tree_output, raw,
):  # fmt: skip
    n_trees = tree_output.shape[0]
    masks = np.empty((BLOCK, n_trees), dtype=table.dtype)
    rows = np.empty(BLOCK, dtype=np.int64)
    sums = np.empty((BLOCK, raw.shape[1]))
    everything = table[0:n_trees]
    for first in range(start, stop, BLOCK):
        n = min(BLOCK, stop - first)
        for r in range(n):
            masks[r, :] = everything
        for j in range(features.shape[0]):
            column = features[j]
            count = bins[j]
            base = table_offset[j]
            if categorical[j]:
                for r in range(n):
                    x = X[first + r, column]
                    at = np.int64(x) if (x > -1.0 and x < count) else count
                    rows[r] = base + at * n_trees
            else:
                for r in range(n):
                    x = X[first + r, column]
                    if x != x:
                        at = count + 1
                    elif -1e-35 <= x <= 1e-35:
                        at = count + 2
                    else:
                        at = _bin(
                            x, thresholds, threshold_offset[j], grid, grid_offset[j],
                            grid_size[j], grid_low[j], grid_scale[j],
                        )  # fmt: skip
                    rows[r] = base + at * n_trees
            for r in range(n):
                row = table[rows[r] : rows[r] + n_trees]
                mask = masks[r]
                for t in range(n_trees):
                    mask[t] &= row[t]
        sums[:n, :] = 0.0
        for t in range(n_trees):
            k = tree_output[t]
            offset = t * leaf_stride
            for r in range(n):
                leaf = _trailing_zeros(masks[r, t])  # type: ignore[call-arg,var-annotated]
                sums[r, k] += leaf_values[offset + leaf]
        for r in range(n):
            for k in range(raw.shape[1]):
                raw[first - start + r, k] = sums[r, k]

"""Reference statistics, computed once per model version and stored as an artifact.

A :class:`ReferenceProfile` holds one summary per drift-tested column (quantile bins, a seeded
sample, moments and null counts for numbers; category counts for categories) and the same for
the model's outputs. A later drift check needs only the new window and this profile.

Which tests read what: PSI, Jensen-Shannon and χ² read bins and counts, which are exact in a
profile; KS and Wasserstein read raw values — the seeded sample (at most ``sample_size``
values) when working from a stored profile, all reference values in exact-data mode
(``keep_data=True``, used when the reference frame itself is given to ``compute_drift``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from loopml.data._contract import DataContract
from loopml.errors import DataError
from loopml.monitor._columns import (
    check_frame,
    in_parallel,
    is_prediction_column,
    kind_of_series,
    kind_of_spec,
    numeric_values,
)
from loopml.monitor.drift import (
    CategoricalSummary,
    ColumnSummary,
    Kind,
    NumericSummary,
    summary_from_dict,
)
from loopml.monitor.drift._summary import SAMPLE_SIZE

FORMAT = "loopml.reference_profile/1"
MIN_IDENTIFIER_ROWS = 50
IDENTIFIER_DISTINCT_SHARE = 0.95


@dataclass(eq=False)
class ReferenceProfile:
    """Per-column reference summaries of one model version's training (or reference) data.

    Attributes:
        columns: summary of each drift-tested feature column, in data order.
        predictions: summary of each model output column (``prediction``, ``probability_*``).
        n_rows: rows of the reference data.
        contract: the data contract the profile was computed under, if any.
        skipped: columns that are not drift-tested, with the reason.
        source_columns: every column of the reference data (to spot new columns later).
        sample_size, seed: how the KS/Wasserstein samples were drawn.
        target, target_name: summary of the labels (the contract's target, when the frame
            holds it), for target drift once ground truth arrives.
        attributions: mean |SHAP| per feature and each one's share of the total, on a sample
            of the reference (see :func:`loopml.monitor.attribution_summary`), for
            attribution drift; None when the model has no fast SHAP path.
    """

    columns: dict[str, ColumnSummary]
    predictions: dict[str, ColumnSummary] = field(default_factory=dict)
    n_rows: int = 0
    contract: DataContract | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    source_columns: list[str] = field(default_factory=list)
    sample_size: int = SAMPLE_SIZE
    seed: int = 0
    target: ColumnSummary | None = None
    target_name: str | None = None
    attributions: dict[str, Any] | None = None

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        contract: DataContract | None = None,
        predictions: pd.DataFrame | None = None,
        *,
        sample_size: int = SAMPLE_SIZE,
        seed: int = 0,
        keep_data: bool = False,
    ) -> ReferenceProfile:
        """Summarise ``frame`` (and the model's ``predictions`` on it, when given).

        With a contract, its feature columns are profiled with the contract's types; without
        one, every column is, with types inferred from dtypes, except non-numeric columns
        whose values are at least 95% distinct (identifiers), which are skipped. Output
        columns (``prediction``, ``probability_*``) are taken from ``predictions``, else from
        ``frame``.
        ``keep_data=True`` also keeps all numeric values in memory (exact-data mode; not
        serialised). The contract's target column, when ``frame`` holds it, is summarised
        apart (``target``).

        Raises:
            DataError: ``frame`` is empty, or lacks a feature column of ``contract``.
        """
        check_frame(frame, "reference")
        if sample_size < 1:
            raise DataError(f"The sample size must be at least 1; got {sample_size}.")
        kinds = _feature_kinds(frame, contract)
        profile = cls(
            columns={},
            n_rows=len(frame),
            contract=contract,
            source_columns=[str(c) for c in frame.columns],
            sample_size=sample_size,
            seed=seed,
        )
        testable = [(n, k, frame[n]) for n, k in kinds.items() if k in ("numeric", "categorical")]
        summaries = in_parallel(
            lambda job: profile._summarise(job[2], job[1] == "numeric", keep_data), testable
        )
        computed = {
            name: summary for (name, _k, _s), summary in zip(testable, summaries, strict=True)
        }
        for name, kind in kinds.items():
            summary = computed.get(name)
            if name not in computed:
                profile.skipped[name] = str(kind)
            elif summary is None:
                profile.skipped[name] = "the reference has no non-null value"
            elif contract is None and _looks_like_identifier(summary):
                profile.skipped[name] = "every value is distinct (an identifier?)"
            else:
                profile.columns[name] = summary
        target = contract.target_column if contract is not None else None
        if target is not None and target.name in frame.columns:
            labels: dict[str, ColumnSummary] = {}
            profile._add(labels, target.name, kind_of_spec(target), frame[target.name], False)
            profile.skipped.pop(target.name, None)
            profile.target, profile.target_name = labels.get(target.name), target.name
        outputs = frame if predictions is None else predictions
        if predictions is not None:
            check_frame(predictions, "reference predictions")
        for name in (str(c) for c in outputs.columns if is_prediction_column(str(c))):
            kind = kind_of_series(outputs[name])
            profile._add(profile.predictions, name, kind, outputs[name], keep_data)
        return profile

    def _add(
        self,
        into: dict[str, ColumnSummary],
        name: str,
        kind: Kind | str,
        series: pd.Series,
        keep_data: bool,
    ) -> None:
        if kind not in ("numeric", "categorical"):
            self.skipped[name] = kind
            return
        summary = self._summarise(series, kind == "numeric", keep_data)
        if summary is None:
            self.skipped[name] = "the reference has no non-null value"
        else:
            into[name] = summary

    def _summarise(self, series: pd.Series, numeric: bool, keep_data: bool) -> ColumnSummary | None:
        if not numeric:
            counted = CategoricalSummary.from_values(series)
            return counted if counted.n else None
        values, n_null = numeric_values(series)
        if values.size == 0:
            return None
        return NumericSummary.from_values(
            values,
            n_null,
            sample_size=self.sample_size,
            seed=self.seed,
            keep_data=keep_data,
            owned=True,
        )

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON-able data (without exact-data arrays)."""
        return {
            "format": FORMAT,
            "n_rows": self.n_rows,
            "sample_size": self.sample_size,
            "seed": self.seed,
            "contract": self.contract.to_dict() if self.contract is not None else None,
            "columns": {n: s.to_dict() for n, s in self.columns.items()},
            "predictions": {n: s.to_dict() for n, s in self.predictions.items()},
            "skipped": dict(self.skipped),
            "source_columns": list(self.source_columns),
            "target": self.target.to_dict() if self.target is not None else None,
            "target_name": self.target_name,
            "attributions": self.attributions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReferenceProfile:
        """Read a profile written by :meth:`to_dict`.

        Raises:
            DataError: the data is not a reference profile of a known format.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise DataError(
                f"This is not a loopml reference profile (format {found!r}, expected {FORMAT!r}).",
                hint="Recompute it with ReferenceProfile.from_frame on the reference data.",
            )
        try:
            contract = data.get("contract")
            return cls(
                columns={n: summary_from_dict(s) for n, s in data["columns"].items()},
                predictions={n: summary_from_dict(s) for n, s in data["predictions"].items()},
                n_rows=int(data["n_rows"]),
                contract=DataContract.from_dict(contract) if contract else None,
                skipped={str(k): str(v) for k, v in data.get("skipped", {}).items()},
                source_columns=[str(c) for c in data.get("source_columns", [])],
                sample_size=int(data["sample_size"]),
                seed=int(data["seed"]),
                target=summary_from_dict(data["target"]) if data.get("target") else None,
                target_name=data.get("target_name"),
                attributions=data.get("attributions"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"The reference profile is incomplete or corrupt: {exc!r}.",
                hint="Recompute it with ReferenceProfile.from_frame on the reference data.",
            ) from exc

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ReferenceProfile:
        """Read a profile written by :meth:`to_json`.

        Raises:
            DataError: the text is not JSON or not a reference profile.
        """
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise DataError(f"The reference profile is not valid JSON: {exc}.") from exc
        return cls.from_dict(data)


def _looks_like_identifier(summary: ColumnSummary | None) -> bool:
    """A non-numeric column whose values are (almost) all distinct: every new value would be
    "unseen", so a drift test would always fire. Only applied when types are inferred."""
    if not isinstance(summary, CategoricalSummary) or summary.n < MIN_IDENTIFIER_ROWS:
        return False
    return len(summary.categories) >= IDENTIFIER_DISTINCT_SHARE * summary.n


def _feature_kinds(frame: pd.DataFrame, contract: DataContract | None) -> dict[str, Kind | str]:
    if contract is None:
        return {
            str(c): kind_of_series(frame[c])
            for c in frame.columns
            if not is_prediction_column(str(c))
        }
    missing = [c for c in contract.feature_names if c not in frame.columns]
    if missing:
        raise DataError(
            f"The reference data lacks {len(missing)} feature column(s) of the contract: "
            f"{', '.join(missing)}.",
            hint="Profile the data the model was trained on, or pass the matching contract.",
        )
    return {spec.name: kind_of_spec(spec) for spec in contract.feature_columns}

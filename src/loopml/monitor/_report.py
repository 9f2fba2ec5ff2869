"""The drift report of one window: per-feature drift, prediction drift and data quality."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopml.errors import DataError
from loopml.monitor._plots import distribution_figure, drift_history_figures
from loopml.reports import Report, figure_html, render_html, to_jsonable, write_report

FORMAT = "loopml.drift_report/1"


@dataclass(eq=False)
class DriftReport(Report):
    """Drift of one window against the reference.

    ``features`` and ``prediction_drift`` map a column to ``{"test", "statistic", "p_value",
    "threshold", "drifted", "type"}``; ``quality`` maps a column to its null shares, unseen
    categories and out-of-range shares; ``distributions`` holds the binned counts plotted in
    the HTML page. ``dataset_drift`` is ``share_drifted >= drift_share``. ``multivariate``
    (domain-classifier drift), ``performance`` (realized and estimated metrics), ``operations``
    (request count, latency percentiles), ``target_drift`` (labels that arrived against the
    training labels), ``attribution_drift`` (change of each feature's share of SHAP
    importance), ``history`` (earlier reports of the model: ``{"time", "share_drifted",
    "features": {column: statistic}}``, oldest first, for the drift-over-time chart) and
    ``alerts`` (the alert rules that fired) are filled by the caller when they apply.
    """

    model: str | None = None
    window: dict[str, Any] = field(default_factory=dict)
    n_reference: int = 0
    n_current: int = 0
    drift_share: float = 0.5
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    share_drifted: float = 0.0
    dataset_drift: bool = False
    prediction_drift: dict[str, dict[str, Any]] = field(default_factory=dict)
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)
    columns_only_in_reference: list[str] = field(default_factory=list)
    columns_only_in_current: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    distributions: dict[str, dict[str, Any]] = field(default_factory=dict)
    multivariate: dict[str, Any] | None = None
    performance: dict[str, Any] | None = None
    operations: dict[str, Any] | None = None
    target_drift: dict[str, Any] | None = None
    attribution_drift: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds")
    )

    def summarise(self) -> None:
        """Recompute ``share_drifted`` and ``dataset_drift`` from ``features``."""
        tested = len(self.features)
        self.share_drifted = len(self.drifted_features) / tested if tested else 0.0
        self.dataset_drift = bool(tested) and self.share_drifted >= self.drift_share

    @property
    def drifted_features(self) -> list[str]:
        return [name for name, r in self.features.items() if r["drifted"]]

    @property
    def prediction_drifted(self) -> bool | None:
        """Whether any model output drifted; ``None`` when no output was compared."""
        if not self.prediction_drift:
            return None
        return any(r["drifted"] for r in self.prediction_drift.values())

    # -- export ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "format": FORMAT,
                "model": self.model,
                "window": self.window,
                "generated_at": self.generated_at,
                "n_reference": self.n_reference,
                "n_current": self.n_current,
                "drift_share": self.drift_share,
                "share_drifted": self.share_drifted,
                "dataset_drift": self.dataset_drift,
                "features": self.features,
                "prediction_drift": self.prediction_drift,
                "prediction_drifted": self.prediction_drifted,
                "quality": self.quality,
                "columns_only_in_reference": self.columns_only_in_reference,
                "columns_only_in_current": self.columns_only_in_current,
                "skipped": self.skipped,
                "distributions": self.distributions,
                "multivariate": self.multivariate,
                "performance": self.performance,
                "operations": self.operations,
                "target_drift": self.target_drift,
                "attribution_drift": self.attribution_drift,
                "history": self.history,
                "alerts": self.alerts,
            }
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReport:
        """Read a report written by :meth:`to_dict` (e.g. a stored ``drift.json``).

        Raises:
            DataError: the data is not a drift report.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DataError(
                f"This is not a loopml drift report (expected format {FORMAT!r}).",
                hint="Read the drift.json written by DriftReport.write.",
            )
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_html(self) -> str:
        return render_html("drift.html", self._context())

    def write(self, directory: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write ``drift.html`` and ``drift.json`` into ``directory`` (atomically each).

        Returns:
            The paths of the HTML page and of the JSON file.
        """
        folder = Path(directory)
        html_path = write_report(folder / "drift.html", self.to_html())
        json_path = write_report(folder / "drift.json", self.to_json())
        return html_path, json_path

    # -- page ------------------------------------------------------------------------------------
    def _context(self) -> dict[str, Any]:
        features = _ordered(self.features)
        predictions = _ordered(self.prediction_drift)
        figures = [
            figure_html(distribution_figure(name, self.distributions[name], r["drifted"]))
            for name, r in [*predictions, *features]
            if name in self.distributions
        ]
        target = self.target_drift
        if target is not None and target.get("distribution"):
            label = f"target {target['column']}"
            figures.insert(
                0,
                figure_html(distribution_figure(label, target["distribution"], target["drifted"])),
            )
        window = ", ".join(f"{k}: {v}" for k, v in self.window.items())
        return {
            "title": f"Drift report{f' — {self.model}' if self.model else ''}",
            "subtitle": f"Window {window}" if window else "Current data against the reference",
            "generated_at": self.generated_at[:16].replace("T", " ") + " UTC",
            "cards": [
                ("dataset drift", self.dataset_drift),
                ("drifted features", f"{len(self.drifted_features)} of {len(self.features)}"),
                ("share drifted", self.share_drifted),
                ("prediction drift", self.prediction_drifted),
                ("reference rows", self.n_reference),
                ("current rows", self.n_current),
                *_extra_cards(self.multivariate, self.performance),
                *_drift_cards(self.target_drift, self.attribution_drift),
                *[(k.replace("_", " "), v) for k, v in (self.operations or {}).items()],
            ],
            "drift_share": self.drift_share,
            "feature_rows": [_row(name, r) for name, r in features],
            "feature_status": ["fail" if r["drifted"] else "" for _, r in features],
            "prediction_rows": [_row(name, r) for name, r in predictions],
            "prediction_status": ["fail" if r["drifted"] else "" for _, r in predictions],
            "quality_rows": [_quality_row(n, q) for n, q in self.quality.items()],
            "quality_status": [_quality_status(q) for q in self.quality.values()],
            "only_in_reference": self.columns_only_in_reference,
            "only_in_current": self.columns_only_in_current,
            "skipped": sorted(self.skipped.items()),
            "figures": figures,
            "multivariate": self.multivariate,
            "performance_rows": _performance_rows(self.performance),
            "performance": self.performance,
            "target": self.target_drift,
            "attribution": self.attribution_drift,
            "attribution_rows": _attribution_rows(self.attribution_drift),
            "attribution_status": [
                "fail" if r["drifted"] else ""
                for r in ((self.attribution_drift or {}).get("features") or {}).values()
            ],
            "history_figures": _history_figures(self.history, self),
            "alert_rows": [
                [a["rule"], a["severity"], a["metric"], a["value"], a["threshold"], a["message"]]
                for a in self.alerts
            ],
            "alert_status": [
                "fail" if a["severity"] == "critical" else "warn" for a in self.alerts
            ],
        }


def _ordered(results: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Drifted columns first, keeping the data's column order within each group."""
    return sorted(results.items(), key=lambda item: not item[1]["drifted"])


def _row(name: str, result: dict[str, Any]) -> list[Any]:
    return [
        name,
        result["type"],
        result["test"],
        result["statistic"],
        result["p_value"],
        result["threshold"],
        result["drifted"],
    ]


def _quality_row(name: str, quality: dict[str, Any]) -> list[Any]:
    unseen = quality.get("unseen_categories") or []
    return [
        name,
        quality["null_share_reference"],
        quality["null_share_current"],
        quality.get("unseen_share"),
        ", ".join(unseen) if unseen else None,
        quality.get("outside_reference_range_share"),
        quality.get("out_of_range_share"),
    ]


def _quality_status(quality: dict[str, Any]) -> str:
    worse_nulls = quality["null_share_current"] > quality["null_share_reference"] + 0.01
    unseen = (quality.get("unseen_share") or 0) > 0
    out_of_range = (quality.get("out_of_range_share") or 0) > 0
    return "warn" if worse_nulls or unseen or out_of_range else ""


def _extra_cards(
    multivariate: dict[str, Any] | None, performance: dict[str, Any] | None
) -> list[tuple[str, Any]]:
    cards: list[tuple[str, Any]] = []
    if multivariate is not None:
        cards.append(("domain classifier AUC", multivariate["statistic"]))
    for kind in ("realized", "estimated"):
        metrics = (performance or {}).get(kind) or {}
        for name in ("roc_auc", "accuracy", "rmse"):
            if name in metrics:
                cards.append((f"{kind} {name}", metrics[name]))
                break
    return cards


def _performance_rows(performance: dict[str, Any] | None) -> list[list[Any]]:
    """One row per metric: reference (holdout), estimated (no labels), realized (feedback)."""
    if not performance:
        return []
    sides = [performance.get(k) or {} for k in ("reference", "estimated", "realized")]
    names = [n for n in dict.fromkeys(k for side in sides[1:] for k in side)]
    return [[name, *(side.get(name) for side in sides)] for name in names]


def _drift_cards(
    target: dict[str, Any] | None, attribution: dict[str, Any] | None
) -> list[tuple[str, Any]]:
    cards: list[tuple[str, Any]] = []
    if target is not None:
        cards.append(("target drift", target["drifted"]))
    if attribution is not None:
        cards.append(("attribution drift", attribution["drifted"]))
    return cards


def _attribution_rows(attribution: dict[str, Any] | None) -> list[list[Any]]:
    if not attribution:
        return []
    return [
        [name, r["reference_share"], r["current_share"], r["change"], r["drifted"]]
        for name, r in attribution["features"].items()
    ]


def _history_figures(history: list[dict[str, Any]], report: DriftReport) -> list[str]:
    """Drift over time: this report appended to the earlier ones (at least two points)."""
    if not history:
        return []
    points = [
        *history,
        {
            "time": report.generated_at,
            "share_drifted": report.share_drifted,
            "features": {n: r["statistic"] for n, r in report.features.items()},
        },
    ]
    thresholds = {n: r["threshold"] for n, r in report.features.items()}
    return [figure_html(f) for f in drift_history_figures(points, thresholds)]

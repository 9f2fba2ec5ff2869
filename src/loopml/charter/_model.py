"""The charter (``loopml.yaml``): the business question and every policy of the loop."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TaskName = Literal["binary", "multiclass", "regression", "clustering", "anomaly"]
SUPERVISED_TASKS: frozenset[str] = frozenset({"binary", "multiclass", "regression"})
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(_Section):
    """Where the training data comes from: a file ``path``, a SQLAlchemy ``url`` with a
    ``query`` or ``table``, or a ``duckdb`` query over files (``SELECT * FROM
    read_parquet('data/*.parquet')``). Relative paths (in the query too) are relative to the
    project folder."""

    path: str | None = None
    format: str | None = None
    url: str | None = None
    query: str | None = None
    table: str | None = None
    duckdb: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        if sum(bool(v) for v in (self.path, self.url, self.duckdb)) != 1:
            raise ValueError(
                "give exactly one of 'path' (a file), 'url' (a database) or 'duckdb' (a DuckDB "
                "query over files)"
            )
        if self.url and not (self.query or self.table):
            raise ValueError("a database source needs a 'query' or a 'table'")
        if not self.url and (self.query or self.table):
            raise ValueError("'query' and 'table' go with a database 'url'")
        return self


class SplitSpec(_Section):
    """How the holdout is cut. ``None`` strategy means stratified for classification, random for
    regression, and time-based when the columns section names a time column."""

    strategy: Literal["random", "stratified", "time", "group"] | None = None
    test_size: float = Field(default=0.2, gt=0.0, lt=1.0)
    time_column: str | None = None
    group_column: str | None = None
    seed: int = 0


class Acceptance(_Section):
    """Acceptance criteria: each one that is set becomes a gate a model must pass to be champion.

    ``min_score`` is a floor on the primary metric when higher is better, a ceiling when lower is
    better. ``retrain_margin`` is how much better a challenger must score than the champion on the
    same recent holdout to replace it. The fairness limits apply to each sensitive column
    (classification only): the largest demographic-parity and equalized-odds differences
    between groups, and the smallest disparate-impact ratio (0.8 is the four-fifths rule).
    """

    min_score: float | None = None
    min_margin_over_baseline: float | None = 0.0
    max_latency_p99_ms: float | None = None
    retrain_margin: float = 0.0
    max_demographic_parity_difference: float | None = Field(default=None, ge=0.0, le=1.0)
    max_equalized_odds_difference: float | None = Field(default=None, ge=0.0, le=1.0)
    min_disparate_impact_ratio: float | None = Field(default=None, ge=0.0, le=1.0)


class ColumnsSpec(_Section):
    """Column roles the person decides: what to ignore, which attributes are sensitive, ids and
    the time column."""

    ignore: list[str] = Field(default_factory=list)
    sensitive: list[str] = Field(default_factory=list)
    id: list[str] = Field(default_factory=list)
    time: str | None = None


class CostsSpec(_Section):
    """The business cost of a false positive and of a false negative (binary tasks)."""

    false_positive: float = Field(default=1.0, ge=0)
    false_negative: float = Field(default=1.0, ge=0)


class OutlierSpec(_Section):
    """Outlier capping: values beyond ``factor`` times the IQR outside the quartiles (``iqr``) or
    beyond the ``lower``/``upper`` quantiles (``quantile``) are clipped to those bounds, on the
    listed ``columns`` (null: every numeric feature). Bounds are learned on the training rows."""

    method: Literal["iqr", "quantile"] = "iqr"
    factor: float = Field(default=1.5, gt=0)
    lower: float = Field(default=0.01, ge=0.0, lt=0.5)
    upper: float = Field(default=0.99, gt=0.5, le=1.0)
    columns: list[str] | None = None


MissingPolicy = Literal["keep", "drop_rows", "median", "mean", "most_frequent", "constant"]
CoerceType = Literal["int", "float", "string", "bool", "datetime", "category"]


class MissingSpec(_Section):
    """Missing-value policy: ``default`` for every feature, ``columns`` per column; ``constant``
    fills with ``fill_values[column]``. ``keep`` leaves the model's own imputation to it."""

    default: MissingPolicy = "keep"
    columns: dict[str, MissingPolicy] = Field(default_factory=dict)
    fill_values: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _constants_given(self) -> MissingSpec:
        for column, policy in self.columns.items():
            if policy == "constant" and column not in self.fill_values:
                raise ValueError(f"column {column!r} uses 'constant' but has no fill_values entry")
        return self


class CleaningSpec(_Section):
    """Cleaning steps applied before training, each reporting what it changed: drop exact
    duplicate rows, the missing-value policy, outlier capping, and type coercion (``coerce``:
    column → int, float, string, bool, datetime or category)."""

    drop_duplicates: bool = False
    missing: MissingSpec = Field(default_factory=MissingSpec)
    outliers: OutlierSpec | None = None
    coerce: dict[str, CoerceType] = Field(default_factory=dict)


class DerivedFeature(_Section):
    """A feature computed from other columns by an arithmetic ``expr`` (``+ - * /``, ``log``,
    ``log1p``, ``sqrt``, ``abs``, ``exp``, ``min``, ``max``, numbers and column names); it is
    parsed safely, never evaluated as code."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)
    expr: str = Field(min_length=1, max_length=500)


class SelectionSpec(_Section):
    """Feature selection: ``filter`` (near-zero variance, one of each highly correlated pair,
    lowest mutual information), ``embedded`` (L1 / tree importance) or ``rfe`` (recursive
    elimination); at most ``max_features`` are kept. What was dropped, and why, is recorded."""

    method: Literal["none", "filter", "embedded", "rfe"] = "none"
    max_features: int | None = Field(default=None, gt=0)
    variance_threshold: float = Field(default=0.0, ge=0.0)
    correlation_threshold: float = Field(default=0.95, gt=0.0, le=1.0)


class FeaturesSpec(_Section):
    """Feature engineering beyond the contract: derived features, selection, PCA
    (``pca``: a number of components, or the share of variance to keep when below 1), and how
    high-cardinality categories are encoded (``target`` encoding, cross-fitted, or ``ordinal``)."""

    derived: list[DerivedFeature] = Field(default_factory=list)
    selection: SelectionSpec = Field(default_factory=SelectionSpec)
    pca: float | None = Field(default=None, gt=0.0)
    high_cardinality: Literal["target", "ordinal"] = "target"

    @model_validator(mode="after")
    def _unique_names(self) -> FeaturesSpec:
        names = [feature.name for feature in self.derived]
        if len(set(names)) != len(names):
            raise ValueError("derived feature names must be unique")
        if self.pca is not None and self.pca >= 1 and self.pca != int(self.pca):
            raise ValueError("pca is a whole number of components, or a variance share below 1")
        return self


class UnsupervisedSpec(_Section):
    """Clustering and anomaly settings: the largest k tried (chosen by silhouette, with
    Davies-Bouldin breaking near-ties), the share of rows expected to be anomalies (``auto``:
    the isolation forest's own rule) and the detector."""

    max_clusters: int = Field(default=8, ge=2, le=50)
    contamination: float | Literal["auto"] = "auto"
    anomaly_method: Literal["isolation_forest", "lof"] = "isolation_forest"

    @field_validator("contamination")
    @classmethod
    def _share(cls, value: float | str) -> float | str:
        if isinstance(value, float | int) and not 0.0 < float(value) <= 0.5:
            raise ValueError("contamination is a share of rows in (0, 0.5], or 'auto'")
        return value


class TrainingSpec(_Section):
    """Training protocol: the global time budget (seconds), seed, folds and candidate families;
    hyperparameter tuning (``tune``, ``sampler``, ``trials``: a fixed trial count per family
    replays a search exactly), the binary decision ``threshold`` (``auto``: by ``costs`` when
    given, by F1 when the positive class is rare, else 0.5), probability calibration and
    blending of the best candidates; ``self_training`` lets classifiers learn from rows whose
    target is missing (scikit-learn's self-training on confident pseudo-labels)."""

    time_budget: float = Field(default=120.0, gt=0)
    seed: int = 0
    cv_folds: int = Field(default=5, ge=2, le=20)
    families: list[str] | None = None
    tune: bool = True
    sampler: Literal["tpe", "random", "grid"] = "tpe"
    trials: int | None = Field(default=None, ge=0)
    threshold: Literal["auto", "fixed", "f1", "youden", "cost"] = "auto"
    costs: CostsSpec | None = None
    calibrate: bool = True
    ensemble: bool = True
    self_training: bool = False

    @model_validator(mode="after")
    def _costs_for_cost_threshold(self) -> TrainingSpec:
        if self.threshold == "cost" and self.costs is None:
            raise ValueError("threshold 'cost' needs 'costs' (false_positive, false_negative)")
        return self


class MonitoringSpec(_Section):
    """Drift policy: the share of drifted features that makes the dataset count as drifted,
    optional test names per column type or per column, and a cron ``schedule`` on which
    ``loopml serve`` monitors its prediction log (the most recent ``window``: 1h, 1d, 1w)."""

    drift_share: float = Field(default=0.5, gt=0.0, le=1.0)
    numeric_test: str | None = None
    categorical_test: str | None = None
    tests: dict[str, str] = Field(default_factory=dict)
    schedule: str | None = None
    window: str | None = None


class RegistrySpec(_Section):
    """Governance of the model registry: which aliases are protected, and whether moving one
    needs a person's approval.

    Moving a protected alias requires the version's acceptance gates to have passed (and, with
    ``require_approval``, a recorded approval) unless forced with a reason; every move is audited.
    """

    protected_aliases: list[str] = Field(default_factory=lambda: ["champion"])
    require_approval: bool = False


AlertChannel = Literal["log", "webhook", "email"]


def _log_only() -> list[AlertChannel]:
    return ["log"]


class AlertRule(_Section):
    """Fire when a monitor report's ``metric`` compares with ``threshold`` (``value >= 0.3``).

    Metrics: ``share_drifted``, ``dataset_drift`` and ``prediction_drift`` (1 or 0),
    ``multivariate_auc``, ``target_drift`` (1 or 0), ``attribution_drift`` (total variation
    distance of SHAP shares), ``drift.<column>`` (that column's statistic), ``estimated_<metric>``
    and ``realized_<metric>`` (e.g. ``estimated_roc_auc``, ``realized_accuracy``),
    ``latency_p50_ms``/``latency_p99_ms``, ``rows``. ``window`` (``1h``, ``1d``, ``1w``) limits
    the rule to reports over that window (``loopml monitor --window 1d``); null = every report.
    """

    name: str = Field(pattern=NAME_PATTERN, max_length=100)
    metric: str = Field(min_length=1)
    threshold: float
    comparison: Literal[">", ">=", "<", "<="] = ">="
    window: str | None = Field(default=None, pattern=r"^[0-9]+[mhdw]$")
    severity: Literal["info", "warning", "critical"] = "warning"
    channels: list[AlertChannel] = Field(default_factory=lambda: _log_only())


class EmailSpec(_Section):
    """SMTP settings for the email channel; the password is read from ``password_env``."""

    host: str
    port: int = Field(default=25, gt=0, lt=65536)
    sender: str
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    password_env: str | None = None


class AlertsSpec(_Section):
    """Alert rules checked after every monitor report; channels and de-duplication.

    The same rule firing again for the same model within ``cooldown_minutes`` is recorded
    once and not sent again.
    """

    cooldown_minutes: float = Field(default=60.0, ge=0)
    webhook_url: str | None = None
    email: EmailSpec | None = None
    rules: list[AlertRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _channels_configured(self) -> AlertsSpec:
        names = [rule.name for rule in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("alert rule names must be unique")
        for rule in self.rules:
            if "webhook" in rule.channels and not self.webhook_url:
                raise ValueError(f"rule {rule.name!r} sends to a webhook but no webhook_url is set")
            if "email" in rule.channels and self.email is None:
                raise ValueError(f"rule {rule.name!r} sends email but no email section is set")
        return self


class RetrainTriggers(_Section):
    """When the loop retrains: on a cron ``schedule``, on drift (``drift_share`` of features
    or any of ``drift_features``), or when ``performance_metric`` (``estimated_roc_auc``,
    ``realized_accuracy`` …) crosses ``performance_threshold`` (below it when higher is
    better). ``loopml retrain`` always retrains on demand."""

    schedule: str | None = None
    drift_share: float | None = Field(default=None, gt=0.0, le=1.0)
    drift_features: list[str] = Field(default_factory=list)
    performance_metric: str | None = None
    performance_threshold: float | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a cron expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _metric_and_threshold(self) -> RetrainTriggers:
        if (self.performance_metric is None) != (self.performance_threshold is None):
            raise ValueError("give both 'performance_metric' and 'performance_threshold'")
        return self


class DataWindowSpec(_Section):
    """Which labelled rows a retraining trains on: ``all`` of them, the ``last_days`` before
    the newest row's time, a ``sliding`` window of the newest ``rows`` rows, or a seeded
    random ``sample`` of ``rows`` rows."""

    kind: Literal["all", "last_days", "sliding", "sample"] = "all"
    days: int | None = Field(default=None, gt=0)
    rows: int | None = Field(default=None, gt=0)
    seed: int = 0

    @model_validator(mode="after")
    def _sizes(self) -> DataWindowSpec:
        if self.kind == "last_days" and self.days is None:
            raise ValueError("a 'last_days' data window needs 'days'")
        if self.kind in ("sliding", "sample") and self.rows is None:
            raise ValueError(f"a '{self.kind}' data window needs 'rows'")
        return self


class RolloutSpec(_Section):
    """How a retrained challenger that passed its gates reaches traffic: a ``direct`` switch of
    the champion alias, a ``canary`` (``weight`` of traffic, guardrails, automatic promotion or
    rollback) or ``shadow`` (mirrored traffic, promoted when agreement and feedback allow) on the
    ``deployment`` that serves the champion."""

    strategy: Literal["direct", "canary", "shadow"] = "direct"
    deployment: str | None = Field(default=None, pattern=NAME_PATTERN)
    weight: float = Field(default=0.1, gt=0.0, lt=1.0)


class RetrainingSpec(_Section):
    """The retraining policy: its triggers, the data window it trains on, how the challenger is
    rolled out, and whether triggers start retraining unattended (``automatic``: checked by
    the monitors that ``loopml serve`` schedules and by ``loopml retrain --auto`` from cron).
    An automatic retraining waits at least ``cooldown_hours`` after the previous one, so a drift
    that persists does not retrain on every monitor run."""

    triggers: RetrainTriggers = Field(default_factory=RetrainTriggers)
    data_window: DataWindowSpec = Field(default_factory=DataWindowSpec)
    rollout: RolloutSpec = Field(default_factory=RolloutSpec)
    automatic: bool = False
    cooldown_hours: float = Field(default=24.0, ge=0.0)


class Charter(_Section):
    """A project's charter: the business question, the data, and the policies of the loop."""

    name: str = Field(pattern=NAME_PATTERN, max_length=100)
    problem: str = ""
    kpi: str = ""
    task: TaskName
    target: str | None = None
    positive_class: str | int | bool | None = None
    data: DataSource
    cleaning: CleaningSpec = Field(default_factory=CleaningSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    metric: str | None = None
    acceptance: Acceptance = Field(default_factory=Acceptance)
    columns: ColumnsSpec = Field(default_factory=ColumnsSpec)
    features: FeaturesSpec = Field(default_factory=FeaturesSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    unsupervised: UnsupervisedSpec = Field(default_factory=UnsupervisedSpec)
    validation: Literal["fail", "warn", "quarantine"] = "warn"
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)
    retraining: RetrainingSpec = Field(default_factory=RetrainingSpec)
    registry: RegistrySpec = Field(default_factory=RegistrySpec)
    store: str | None = None

    @field_validator("name")
    @classmethod
    def _no_reference_characters(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _target_for_supervised(self) -> Charter:
        if self.task in SUPERVISED_TASKS and not self.target:
            raise ValueError(f"a {self.task} task needs a 'target' column")
        if self.task != "binary" and self.positive_class is not None:
            raise ValueError("'positive_class' only applies to the binary task")
        return self

    @property
    def is_supervised(self) -> bool:
        return self.task in SUPERVISED_TASKS

    @property
    def split_strategy(self) -> str:
        """The effective split strategy (see :class:`SplitSpec`)."""
        if self.split.strategy:
            return self.split.strategy
        if self.split.time_column or self.columns.time:
            return "time"
        return "stratified" if self.task in ("binary", "multiclass") else "random"

    @property
    def time_column(self) -> str | None:
        return self.split.time_column or self.columns.time

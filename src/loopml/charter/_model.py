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
    """Where the training data comes from: a file ``path`` or a SQLAlchemy ``url`` with a
    ``query`` or ``table``. Relative paths are relative to the project folder."""

    path: str | None = None
    format: str | None = None
    url: str | None = None
    query: str | None = None
    table: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        if bool(self.path) == bool(self.url):
            raise ValueError("give exactly one of 'path' (a file) or 'url' (a database)")
        if self.url and not (self.query or self.table):
            raise ValueError("a database source needs a 'query' or a 'table'")
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
    same recent holdout to replace it.
    """

    min_score: float | None = None
    min_margin_over_baseline: float | None = 0.0
    max_latency_p99_ms: float | None = None
    retrain_margin: float = 0.0


class ColumnsSpec(_Section):
    """Column roles the person decides: what to ignore, which attributes are sensitive, ids and
    the time column."""

    ignore: list[str] = Field(default_factory=list)
    sensitive: list[str] = Field(default_factory=list)
    id: list[str] = Field(default_factory=list)
    time: str | None = None


class TrainingSpec(_Section):
    """Training protocol: the global time budget (seconds), seed, folds and candidate families."""

    time_budget: float = Field(default=120.0, gt=0)
    seed: int = 0
    cv_folds: int = Field(default=5, ge=2, le=20)
    families: list[str] | None = None


class MonitoringSpec(_Section):
    """Drift policy: the share of drifted features that makes the dataset count as drifted, and
    optional test names per column type or per column."""

    drift_share: float = Field(default=0.5, gt=0.0, le=1.0)
    numeric_test: str | None = None
    categorical_test: str | None = None
    tests: dict[str, str] = Field(default_factory=dict)


class Charter(_Section):
    """A project's charter: the business question, the data, and the policies of the loop."""

    name: str = Field(pattern=NAME_PATTERN, max_length=100)
    problem: str = ""
    kpi: str = ""
    task: TaskName
    target: str | None = None
    positive_class: str | int | bool | None = None
    data: DataSource
    split: SplitSpec = Field(default_factory=SplitSpec)
    metric: str | None = None
    acceptance: Acceptance = Field(default_factory=Acceptance)
    columns: ColumnsSpec = Field(default_factory=ColumnsSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    validation: Literal["fail", "warn", "quarantine"] = "warn"
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)
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

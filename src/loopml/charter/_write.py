"""Writing a commented ``loopml.yaml`` that a person can read and edit."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from loopml.charter._load import parse_charter
from loopml.charter._model import Charter


def _value(value: Any) -> str:
    """A YAML scalar or flow list (JSON is valid YAML and quotes safely)."""
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def _costs_lines(charter: Charter) -> list[str]:
    costs = charter.training.costs
    if costs is None:
        return ["  costs: null\x1f# {false_positive: 1, false_negative: 5} for 'cost'"]
    return [
        "  costs:\x1f# business cost of each kind of error (binary)",
        f"    false_positive: {costs.false_positive}",
        f"    false_negative: {costs.false_negative}",
    ]


def render_charter(charter: Charter) -> str:
    """The charter as commented YAML; parsing the text gives back an equal charter."""
    c = charter
    data_lines = [
        f"  {key}: {_value(value)}" for key, value in c.data.model_dump(exclude_none=True).items()
    ]
    lines = [
        "# loopml charter: the business question and every policy of the loop.",
        "# Edit freely; `loopml` validates this file on every command and names the line of any",
        "# mistake. Reference: the README's 'Charter' section.",
        "",
        f"name: {_value(c.name)}\x1f# model name in the registry (churn@champion, churn:3)",
        f"problem: {_value(c.problem)}",
        f"kpi: {_value(c.kpi)}\x1f# the business number this model should move",
        "",
        f"task: {c.task}\x1f# binary | multiclass | regression | clustering | anomaly",
        f"target: {_value(c.target)}",
        f"positive_class: {_value(c.positive_class)}\x1f# binary only: the class we care about",
        f"metric: {_value(c.metric)}\x1f# primary metric; null = roc_auc (classification), rmse",
        "",
        "data:\x1f# a file path, or url + query/table for a database",
        *data_lines,
        "",
        "split:\x1f# how the holdout is cut",
        f"  strategy: {_value(c.split.strategy)}\x1f# random | stratified | time | group | null",
        f"  test_size: {c.split.test_size}",
        f"  time_column: {_value(c.split.time_column)}",
        f"  group_column: {_value(c.split.group_column)}",
        f"  seed: {c.split.seed}",
        "",
        "acceptance:\x1f# gates a model must pass to become champion",
        f"  min_score: {_value(c.acceptance.min_score)}\x1f# floor (ceiling if lower is better)",
        f"  min_margin_over_baseline: {_value(c.acceptance.min_margin_over_baseline)}",
        f"  max_latency_p99_ms: {_value(c.acceptance.max_latency_p99_ms)}",
        f"  retrain_margin: {c.acceptance.retrain_margin}\x1f# challenger must beat champion by",
        f"  max_demographic_parity_difference: "
        f"{_value(c.acceptance.max_demographic_parity_difference)}"
        "\x1f# per sensitive column",
        f"  max_equalized_odds_difference: {_value(c.acceptance.max_equalized_odds_difference)}",
        f"  min_disparate_impact_ratio: {_value(c.acceptance.min_disparate_impact_ratio)}"
        "\x1f# 0.8 = four-fifths rule",
        "",
        "columns:",
        f"  ignore: {_value(c.columns.ignore)}",
        f"  sensitive: {_value(c.columns.sensitive)}\x1f# audited for fairness",
        f"  id: {_value(c.columns.id)}",
        f"  time: {_value(c.columns.time)}",
        "",
        "training:",
        f"  time_budget: {c.training.time_budget}\x1f# seconds for the whole search",
        f"  seed: {c.training.seed}",
        f"  cv_folds: {c.training.cv_folds}",
        f"  families: {_value(c.training.families)}\x1f# null = all that suit the data",
        f"  tune: {_value(c.training.tune)}\x1f# tune the best families' hyperparameters",
        f"  sampler: {c.training.sampler}\x1f# tpe | random | grid (Optuna, seeded)",
        f"  trials: {_value(c.training.trials)}\x1f# per family; null = as many as time allows",
        f"  threshold: {c.training.threshold}\x1f# auto | fixed | f1 | youden | cost (binary)",
        *_costs_lines(c),
        f"  calibrate: {_value(c.training.calibrate)}\x1f# when it lowers CV log loss",
        f"  ensemble: {_value(c.training.ensemble)}\x1f# blend the best when it beats them",
        *_self_training_lines(c),
        "",
        *_optional_section(
            "cleaning",
            c.cleaning,
            "# cleaning: {drop_duplicates: true, missing: {default: median}, "
            "outliers: {method: iqr}, coerce: {col: float}}",
        ),
        *_optional_section(
            "features",
            c.features,
            '# features: {derived: [{name: ratio, expr: "a / b"}], '
            "selection: {method: filter}, pca: 0.95}",
        ),
        *_unsupervised_lines(c),
        "",
        f"validation: {c.validation}\x1f# fail | warn | quarantine bad rows",
        "",
        "monitoring:",
        f"  drift_share: {c.monitoring.drift_share}\x1f# share of drifted features = dataset drift",
        f"  numeric_test: {_value(c.monitoring.numeric_test)}",
        f"  categorical_test: {_value(c.monitoring.categorical_test)}",
        f"  tests: {_value(c.monitoring.tests)}",
        f"  schedule: {_value(c.monitoring.schedule)}\x1f# cron, UTC: `loopml serve` monitors then",
        f"  window: {_value(c.monitoring.window)}\x1f# 1h | 1d | 1w | null (whole log)",
        "",
        *_alerts_lines(c),
        "",
        *_retraining_lines(c),
        "",
        "registry:\x1f# governance of model aliases",
        f"  protected_aliases: {_value(c.registry.protected_aliases)}\x1f# moved only past gates",
        f"  require_approval: {_value(c.registry.require_approval)}\x1f# + `loopml models approve`",
        "",
        f"store: {_value(c.store)}\x1f# metadata store URL; null = .loopml/loopml.db (SQLite)",
        "",
    ]
    return "\n".join(_align(line) for line in lines) + "\n"


def _self_training_lines(c: Charter) -> list[str]:
    if not c.training.self_training:
        return ["  # self_training: true\x1f# classification: also learn from unlabelled rows"]
    return [f"  self_training: {_value(True)}\x1f# also learn from unlabelled rows"]


def _optional_section(key: str, section: BaseModel, example: str) -> list[str]:
    """A section written only when it differs from its defaults (else an example comment), so
    a fresh charter stays short; the README documents every key."""
    values = section.model_dump(exclude_defaults=True)
    if not values:
        return [example, ""]
    return [f"{key}: {_value(section.model_dump())}", ""]


def _unsupervised_lines(c: Charter) -> list[str]:
    u = c.unsupervised
    return [
        "unsupervised:\x1f# clustering and anomaly tasks only",
        f"  max_clusters: {u.max_clusters}\x1f# k tried 2..max (silhouette picks)",
        f"  contamination: {_value(u.contamination)}\x1f# share of rows flagged, or auto",
        f"  anomaly_method: {u.anomaly_method}\x1f# isolation_forest | lof",
    ]


def _alerts_lines(c: Charter) -> list[str]:
    a = c.alerts
    rules = [f"    - {_value(rule.model_dump())}" for rule in a.rules]
    return [
        "alerts:\x1f# checked after every `loopml monitor`; history: `loopml alerts`",
        f"  cooldown_minutes: {a.cooldown_minutes}\x1f# same rule + model: sent once per cooldown",
        f"  webhook_url: {_value(a.webhook_url)}\x1f# JSON POST for the webhook channel",
        "  # email: {host, port, sender, to: [...], starttls, username, password_env}",
        f"  email: {_value(a.email.model_dump() if a.email else None)}",
        "  # rule: {name, metric, threshold, comparison (> >= < <=), window (1h 1d 1w | null),",
        "  #        severity (info warning critical), channels [log webhook email]}",
        "  # metrics: share_drifted dataset_drift prediction_drift multivariate_auc drift.<column>",
        "  #          estimated_<metric> realized_<metric> latency_p50_ms latency_p99_ms rows",
        "  rules: []" if not rules else "  rules:",
        *rules,
    ]


def _retraining_lines(c: Charter) -> list[str]:
    t, w, r = c.retraining.triggers, c.retraining.data_window, c.retraining.rollout
    return [
        "retraining:\x1f# `loopml retrain --dry-run` says which trigger fired",
        "  triggers:",
        f'    schedule: {_value(t.schedule)}\x1f# cron, e.g. "0 3 * * 1" (Mondays 03:00)',
        f"    drift_share: {_value(t.drift_share)}\x1f# retrain when this share of features drift",
        f"    drift_features: {_value(t.drift_features)}\x1f# ... or when any of these drift",
        f"    performance_metric: {_value(t.performance_metric)}"
        "\x1f# e.g. estimated_roc_auc, realized_accuracy",
        f"    performance_threshold: {_value(t.performance_threshold)}"
        "\x1f# retrain when worse than this",
        "  data_window:",
        f"    kind: {w.kind}\x1f# all | last_days | sliding (newest rows) | sample",
        f"    days: {_value(w.days)}\x1f# last_days only",
        f"    rows: {_value(w.rows)}\x1f# sliding and sample only",
        f"    seed: {w.seed}",
        "  rollout:\x1f# how a winning challenger reaches traffic",
        f"    strategy: {r.strategy}\x1f# direct (move champion) | canary | shadow",
        f"    deployment: {_value(r.deployment)}\x1f# null = the one serving the champion",
        f"    weight: {r.weight}\x1f# canary's first share / shadow's mirrored share",
        f"  automatic: {_value(c.retraining.automatic)}"
        "\x1f# retrain unattended when a trigger fires",
        f"  cooldown_hours: {c.retraining.cooldown_hours}\x1f# between automatic retrainings",
    ]


_COMMENT = "\x1f# "
_COMMENT_COLUMN = 44


def _align(line: str) -> str:
    """Line up a trailing comment marked ``<value>\\x1f# <comment>``.

    JSON-quoted values escape control characters, so the marker never occurs inside a value.
    """
    value, sep, comment = line.partition(_COMMENT)
    if not sep:
        return line.rstrip()
    return f"{value.rstrip():<{_COMMENT_COLUMN}}# {comment.strip()}"


def write_charter(charter: Charter, path: Path) -> None:
    """Write ``charter`` to ``path`` atomically, after checking the text parses back equal."""
    text = render_charter(charter)
    if parse_charter(text, source=str(path)) != charter:
        raise AssertionError("the rendered charter does not parse back to the same values")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".loopml-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""The conformance suite every :class:`~loopml.store.MetadataStore` backend passes unchanged.

Use it by subclassing in a test module and providing a ``store_url`` fixture that yields the URL
of a fresh, empty store (one per test)::

    class TestMyBackend(MetadataStoreConformance):
        @pytest.fixture
        def store_url(self, tmp_path): return f"mybackend:///{tmp_path}/db"

The suite opens it with :func:`loopml.store.open_store`, so the backend's scheme must be
registered. Besides every method's contract it checks that several processes writing at once lose
nothing.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from loopml.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from loopml.store import (
    DatasetVersion,
    Feedback,
    MetadataStore,
    MetricPoint,
    PredictionRecord,
    open_store,
)
from loopml.store._records import AlertRecord
from loopml.testing._store_workers import log_runs, register_versions

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def dataset(project: str = "churn", content: str = "a", **changes: object) -> DatasetVersion:
    """A dataset version whose id and hash derive from ``content``."""
    digest = hashlib.sha256(content.encode()).hexdigest()
    fields: dict[str, object] = {
        "id": digest[:12],
        "project": project,
        "content_hash": digest,
        "artifact": digest,
        "n_rows": 10,
        "n_columns": 3,
        "source": {"path": f"{content}.csv"},
        "schema": {"x": "int64"},
    }
    fields.update(changes)
    return DatasetVersion(**fields)  # type: ignore[arg-type]


def prediction(request_id: str, minutes: int = 0, version: int = 1) -> PredictionRecord:
    return PredictionRecord(
        request_id=request_id,
        time=T0 + timedelta(minutes=minutes),
        model_name="churn",
        model_version=version,
        inputs={"x": minutes, "city": "Oslo"},
        outputs={"prediction": "yes", "probability_yes": 0.75},
        latency_ms=1.5,
        deployment="prod",
    )


class MetadataStoreConformance:
    """Every :class:`MetadataStore` contract, as tests. Needs a ``store_url`` fixture."""

    @pytest.fixture
    def store(self, store_url: str) -> Iterator[MetadataStore]:
        with open_store(store_url) as opened:
            yield opened

    # --- opening ----------------------------------------------------------------------------

    def test_reopening_keeps_data_and_masks_the_password(self, store_url: str) -> None:
        with open_store(store_url) as first:
            run = first.runs.create("p", "r", "train")
        with open_store(store_url) as second:
            assert second.runs.get(run.id).id == run.id
            password = urlsplit(store_url).password
            assert password is None or password not in second.url

    # --- datasets ---------------------------------------------------------------------------

    def test_dataset_add_is_idempotent_on_content(self, store: MetadataStore) -> None:
        first = store.datasets.add(dataset(source={"path": "one.csv"}))
        again = store.datasets.add(dataset(source={"path": "two.csv"}))
        assert again == first
        assert again.source == {"path": "one.csv"}
        assert store.datasets.list("churn") == [first]

    def test_same_content_in_two_projects_is_two_versions(self, store: MetadataStore) -> None:
        store.datasets.add(dataset("churn"))
        store.datasets.add(dataset("fraud"))
        assert len(store.datasets.list("churn")) == len(store.datasets.list("fraud")) == 1

    def test_dataset_roundtrip_and_order(self, store: MetadataStore) -> None:
        old = store.datasets.add(dataset(content="a", created_at=T0))
        new = store.datasets.add(
            dataset(content="b", created_at=T0 + timedelta(days=1), parent_id=old.id)
        )
        assert store.datasets.get("churn", new.id) == new
        assert store.datasets.list("churn") == [old, new]
        assert store.datasets.latest("churn") == new
        assert store.datasets.latest("empty") is None
        assert new.created_at.tzinfo is not None and new.created_at.utcoffset() == timedelta(0)

    def test_dataset_prefix_lookup(self, store: MetadataStore) -> None:
        version = store.datasets.add(dataset())
        assert store.datasets.get("churn", version.id[:4]) == version
        with pytest.raises(NotFoundError, match=version.id):
            store.datasets.get("churn", "ffffffff")
        with pytest.raises(NotFoundError):
            store.datasets.get("other", version.id)

    def test_ambiguous_dataset_prefix_is_not_found(self, store: MetadataStore) -> None:
        first = store.datasets.add(
            dataset(content="a", id="abc111", content_hash="abc111" + "0" * 58)
        )
        store.datasets.add(dataset(content="b", id="abc222", content_hash="abc222" + "0" * 58))
        with pytest.raises(NotFoundError, match="ambiguous"):
            store.datasets.get("churn", "abc")
        assert store.datasets.get("churn", "abc1") == first

    def test_dataset_prefix_wildcards_are_literal(self, store: MetadataStore) -> None:
        store.datasets.add(dataset())
        with pytest.raises(NotFoundError):
            store.datasets.get("churn", "%")

    # --- runs -------------------------------------------------------------------------------

    def test_create_run(self, store: MetadataStore) -> None:
        run = store.runs.create("p", "baseline", "train", dataset_id="d1", tags={"team": "risk"})
        assert (run.status, run.end_time, run.tags) == ("running", None, {"team": "risk"})
        assert len(run.id) == 32
        assert store.runs.get(run.id) == run

    def test_create_run_with_taken_id_or_missing_parent(self, store: MetadataStore) -> None:
        store.runs.create("p", "a", "train", run_id="fixed-id-1")
        with pytest.raises(AlreadyExistsError, match="fixed-id-1"):
            store.runs.create("p", "b", "train", run_id="fixed-id-1")
        with pytest.raises(NotFoundError, match="nope"):
            store.runs.create("p", "c", "train", parent_id="nope")
        assert [r.name for r in store.runs.list("p")] == ["a"]

    def test_create_run_with_its_first_batch_in_one_call(self, store: MetadataStore) -> None:
        parent = store.runs.create("p", "parent", "train")
        run = store.runs.create(
            "p",
            "short",
            "trial",
            run_id="client-side-id",
            parent_id=parent.id,
            start_time=T0,
            tags={"seed": "3"},
            params={"lr": 0.1},
            metrics=[MetricPoint("loss", 0.9, 0, T0), MetricPoint("loss", 0.5, 1, T0)],
            artifacts={"model": "f" * 64},
            end_status="finished",
        )
        got = store.runs.get("client-side-id")
        assert got == run
        assert (got.start_time, got.status, got.parent_id) == (T0, "finished", parent.id)
        assert got.end_time is not None and got.end_time > T0
        assert (got.params, got.metrics, got.tags) == ({"lr": "0.1"}, {"loss": 0.5}, {"seed": "3"})
        assert [p.value for p in store.runs.metric_history(run.id, "loss")] == [0.9, 0.5]
        with pytest.raises(AlreadyExistsError):
            store.runs.create("p", "again", "train", run_id="client-side-id", params={"a": 1})
        with pytest.raises(InvalidInputError):
            store.runs.create("p", "bad", "train", end_status="running")  # type: ignore[arg-type]
        assert store.runs.get("client-side-id").params == {"lr": "0.1"}

    def test_barrier_runs_before_every_call_naming_a_run(self, store: MetadataStore) -> None:
        seen: list[str | None] = []
        store.runs.set_barrier(seen.append)
        run = store.runs.create("p", "r", "train")
        child = store.runs.create("p", "c", "train", parent_id=run.id)
        store.runs.log_batch(child.id, metrics=[MetricPoint("m", 1.0)])
        store.runs.get(child.id)
        store.runs.metric_history(child.id, "m")
        store.runs.end(child.id)
        store.runs.list("p")
        store.runs.search("p", "metrics.m > 0")
        assert seen == [run.id, child.id, child.id, child.id, child.id, None, None]
        store.runs.set_barrier(None)
        store.runs.get(run.id)
        assert len(seen) == 7

    def test_log_batch_and_get(self, store: MetadataStore) -> None:
        run = store.runs.create("p", "r", "train")
        store.runs.log_batch(
            run.id,
            params={"lr": 0.1, "depth": 3},
            metrics=[MetricPoint("auc", 0.7, 0), MetricPoint("loss", 1.0, 0)],
            tags={"note": "first"},
            artifacts={"model": "d" * 64},
        )
        store.runs.log_batch(run.id, tags={"note": "second"}, metrics=[MetricPoint("auc", 0.8, 1)])
        got = store.runs.get(run.id)
        assert got.params == {"lr": "0.1", "depth": "3"}
        assert got.metrics == {"auc": 0.8, "loss": 1.0}
        assert got.tags == {"note": "second"}
        assert got.artifacts == {"model": "d" * 64}

    def test_relogging_a_param_with_another_value_fails_whole_batch(
        self, store: MetadataStore
    ) -> None:
        run = store.runs.create("p", "r", "train")
        store.runs.log_batch(run.id, params={"lr": 0.1})
        store.runs.log_batch(run.id, params={"lr": "0.1"})  # same value: fine
        with pytest.raises(InvalidInputError, match="lr"):
            store.runs.log_batch(
                run.id, params={"lr": 0.2, "new": 1}, metrics=[MetricPoint("auc", 0.5)]
            )
        got = store.runs.get(run.id)
        assert got.params == {"lr": "0.1"}
        assert got.metrics == {}
        assert store.runs.metric_history(run.id, "auc") == []

    def test_log_batch_to_missing_run(self, store: MetadataStore) -> None:
        with pytest.raises(NotFoundError, match="missing"):
            store.runs.log_batch("missing", params={"a": 1})
        with pytest.raises(NotFoundError):
            store.runs.metric_history("missing", "auc")

    def test_metric_history_orders_by_step_then_time(self, store: MetadataStore) -> None:
        run = store.runs.create("p", "r", "train")
        points = [
            MetricPoint("loss", 0.5, 2, T0),
            MetricPoint("loss", 0.9, 0, T0 + timedelta(seconds=5)),
            MetricPoint("loss", 0.7, 1, T0 + timedelta(seconds=2)),
            MetricPoint("loss", 0.6, 1, T0 + timedelta(seconds=1)),
            MetricPoint("other", 1.0, 0, T0),
        ]
        store.runs.log_batch(run.id, metrics=points)
        history = store.runs.metric_history(run.id, "loss")
        assert [(p.step, p.value) for p in history] == [(0, 0.9), (1, 0.6), (1, 0.7), (2, 0.5)]
        assert history[0].timestamp == T0 + timedelta(seconds=5)

    def test_latest_metric_is_largest_step_then_newest(self, store: MetadataStore) -> None:
        run = store.runs.create("p", "r", "train")
        store.runs.log_batch(run.id, metrics=[MetricPoint("auc", 0.9, 5, T0)])
        store.runs.log_batch(run.id, metrics=[MetricPoint("auc", 0.1, 3, T0 + timedelta(hours=1))])
        assert store.runs.get(run.id).metrics == {"auc": 0.9}
        store.runs.log_batch(run.id, metrics=[MetricPoint("auc", 0.95, 5, T0 + timedelta(1))])
        assert store.runs.get(run.id).metrics == {"auc": 0.95}
        store.runs.log_batch(run.id, metrics=[MetricPoint("auc", 0.2, 5, T0 - timedelta(1))])
        assert store.runs.get(run.id).metrics == {"auc": 0.95}

    def test_metric_values_roundtrip_including_nan(self, store: MetadataStore) -> None:
        run = store.runs.create("p", "r", "train")
        store.runs.log_batch(
            run.id, metrics=[MetricPoint("a", float("nan")), MetricPoint("b", -1e300)]
        )
        got = store.runs.get(run.id).metrics
        assert math.isnan(got["a"]) and got["b"] == -1e300

    def test_end_run(self, store: MetadataStore) -> None:
        run = store.runs.create("p", "r", "train")
        ended = store.runs.end(run.id, "failed")
        assert ended.status == "failed" and ended.end_time is not None
        assert ended.end_time >= run.start_time
        assert store.runs.get(run.id) == ended
        with pytest.raises(NotFoundError):
            store.runs.end("missing")
        with pytest.raises(InvalidInputError):
            store.runs.end(run.id, "running")

    def test_run_prefix_lookup(self, store: MetadataStore) -> None:
        a = store.runs.create("p", "a", "train", run_id="abcdef111")
        store.runs.create("p", "b", "train", run_id="abcdef222")
        assert store.runs.get("abcdef1").id == a.id
        with pytest.raises(NotFoundError, match="ambiguous"):
            store.runs.get("abcdef")
        with pytest.raises(NotFoundError, match="6"):
            store.runs.get("abc")  # too short to be a prefix
        with pytest.raises(NotFoundError, match="zzzzzz"):
            store.runs.get("zzzzzz")

    def test_list_runs_filters_newest_first(self, store: MetadataStore) -> None:
        parent = store.runs.create("p", "tune", "tuning", dataset_id="d1")
        children = [
            store.runs.create("p", f"trial{i}", "trial", parent_id=parent.id, dataset_id="d1")
            for i in range(3)
        ]
        store.runs.create("p", "eval", "evaluate", dataset_id="d2")
        store.runs.create("other", "x", "trial")
        store.runs.log_batch(children[0].id, params={"i": 0}, metrics=[MetricPoint("auc", 0.5)])
        trials = store.runs.list("p", kind="trial")
        assert [r.name for r in trials] == ["trial2", "trial1", "trial0"]
        assert trials[-1].params == {"i": "0"} and trials[-1].metrics == {"auc": 0.5}
        assert len(store.runs.list("p", parent_id=parent.id)) == 3
        assert {r.name for r in store.runs.list("p", dataset_id="d1")} == {
            "tune",
            "trial0",
            "trial1",
            "trial2",
        }
        limited = store.runs.list("p", kind="trial", limit=2)
        assert [r.name for r in limited] == ["trial2", "trial1"]
        assert limited[0].params == {}
        assert len(store.runs.list("p")) == 5
        assert store.runs.list("nobody") == []

    # --- run search -------------------------------------------------------------------------

    def _search_fixture(self, store: MetadataStore) -> dict[str, str]:
        """Five runs of ``p`` (plus one of ``other``); returns name -> id."""
        specs = [
            ("a", "lightgbm", 0.91, "Risk"),
            ("b", "lightgbm", 0.75, "risk"),
            ("c", "logreg", 0.85, "growth"),
            ("d", "logreg", None, "growth"),
            ("e", "it's", 0.60, "o'hara"),
        ]
        ids = {}
        for name, family, auc, team in specs:
            run = store.runs.create("p", name, "train" if name != "c" else "retrain")
            metrics = [MetricPoint("roc_auc", auc)] if auc is not None else []
            store.runs.log_batch(
                run.id, params={"family": family}, metrics=metrics, tags={"team": team}
            )
            ids[name] = run.id
        store.runs.create("other", "x", "train")
        return ids

    def test_search_filters_params_metrics_tags_and_attributes(self, store: MetadataStore) -> None:
        self._search_fixture(store)

        def names(text: str | None, **kw: object) -> list[str]:
            return [r.name for r in store.runs.search("p", text, **kw)]  # type: ignore[arg-type]

        assert names("metrics.roc_auc > 0.8") == ["c", "a"]
        assert names("metrics.roc_auc >= 0.75 and params.family = 'lightgbm'") == ["b", "a"]
        assert names("params.family = 'logreg' or metrics.roc_auc < 0.7") == ["e", "d", "c"]
        assert names("(metrics.roc_auc > 0.9 or kind = 'retrain') and tags.team != 'x'") == [
            "c",
            "a",
        ]
        assert names("tags.team LIKE 'ris%'") == ["b", "a"]  # LIKE ignores case everywhere
        assert names("name IN ('a', 'd', 'zz')") == ["d", "a"]
        assert names("params.family = 'it''s'") == ["e"]
        assert names("metrics.roc_auc != 0.75") == ["e", "c", "a"]  # d has no roc_auc
        assert names("status = 'running' and start_time > '2000-01-01'") == list("edcba")
        assert names(None) == list("edcba")
        assert names("metrics.roc_auc > 0", limit=2) == ["e", "c"]

    def test_search_null_checks_negation_and_mlflow_spellings(self, store: MetadataStore) -> None:
        ids = self._search_fixture(store)
        store.runs.log_batch(ids["a"], tags={"reviewed": "yes"})
        store.runs.log_batch(ids["d"], metrics=[MetricPoint("roc_auc", float("nan"))])
        store.runs.end(ids["e"])

        def names(text: str) -> list[str]:
            return [r.name for r in store.runs.search("p", text)]

        assert names("tags.reviewed IS NULL") == ["e", "d", "c", "b"]
        assert names("tags.reviewed is not null") == ["a"]
        assert names("metrics.roc_auc IS NULL") == ["d"]  # NaN counts as no value
        assert names("not tags.team = 'growth'") == ["e", "b", "a"]
        assert names("not (metrics.roc_auc > 0.8 or params.family = 'it''s')") == ["d", "b"]
        assert names("params.family NOT IN ('lightgbm', 'it''s')") == ["d", "c"]
        assert names("tags.team not like 'r%'") == ["e", "d", "c"]
        assert names("tags.team ILIKE 'RISK'") == ["b", "a"]
        assert names("attributes.run_name = 'a' or run_id = '" + ids["c"] + "'") == ["c", "a"]
        assert names("end_time IS NOT NULL and attributes.status = 'finished'") == ["e"]
        assert names("dataset_id is null and metric.roc_auc >= 0.85") == ["c", "a"]
        assert names("tags.\"team\" = 'growth' and param.family != 'x'") == ["d", "c"]
        assert store.runs.search("p", order_by=["end_time"], limit=1)[0].name == "e"

    def test_search_orders_by_metric_with_missing_values_last(self, store: MetadataStore) -> None:
        self._search_fixture(store)
        best = store.runs.search("p", order_by=["metrics.roc_auc"])
        assert [r.name for r in best] == ["a", "c", "b", "e", "d"]
        assert best[0].params == {"family": "lightgbm"} and best[0].metrics == {"roc_auc": 0.91}
        worst = store.runs.search("p", order_by=["metrics.roc_auc asc"], limit=3)
        assert [r.name for r in worst] == ["e", "b", "c"]
        by_family = store.runs.search("p", order_by=["name desc"], limit=2)
        assert [r.name for r in by_family] == ["e", "d"]

    def test_search_values_are_bound_not_pasted(self, store: MetadataStore) -> None:
        ids = self._search_fixture(store)
        hostile = "params.family = 'x'' OR 1=1 --'"
        assert store.runs.search("p", hostile) == []
        for text in (
            "params.family IN ('x''); DROP TABLE runs; --')",
            "tags.team LIKE '%'' OR ''1''=''1'",
            "name NOT IN ('a'' OR 1=1 --')",
            "tags.`team'') OR 1=1 --` IS NOT NULL",
        ):
            found = {r.name for r in store.runs.search("p", text)}
            assert found <= {"a", "b", "c", "d", "e"}
            assert found != {"a", "b", "c", "d", "e"} or text.startswith("name NOT IN")
        assert len(store.runs.search("p", "tags.team = 'o''hara'")) == 1
        assert store.runs.get(ids["a"]).name == "a"  # nothing was dropped or changed

    def test_bad_search_filters_name_position_and_expectation(self, store: MetadataStore) -> None:
        cases = {
            "metrics.roc_auc > 'high'": ("position 19", "a number"),
            "metrics.roc_auc >": ("position 18", "a number"),
            "params.family = lightgbm": ("position 17", "a quoted string"),
            "colour = 'red'": ("position 1", "a field"),
            "metrics.roc_auc ~ 1": ("position 17", "'~'"),
            "(metrics.roc_auc > 1": ("position 21", "')'"),
            "metrics.roc_auc > 1 metrics.x > 2": ("position 21", "'and', 'or'"),
            "name IN ('a' 'b')": ("position 14", "',' or ')'"),
            "metrics.roc_auc LIKE '%'": ("position 17", "a numeric operator"),
            "start_time > 'yesterday'": ("position 14", "an ISO-8601 time"),
            "tags.reviewed IS 'yes'": ("position 18", "NULL"),
            "tags.reviewed NOT = 'yes'": ("position 19", "IN, LIKE or ILIKE after NOT"),
            "attributes.colour = 'red'": ("position 1", "a run attribute"),
            "not": ("position 4", "a field"),
        }
        for text, fragments in cases.items():
            with pytest.raises(InvalidInputError) as caught:
                store.runs.search("p", text)
            for fragment in fragments:
                assert fragment in caught.value.message, (text, caught.value.message)
        with pytest.raises(InvalidInputError, match="order key"):
            store.runs.search("p", order_by=["metrics.roc_auc sideways"])
        with pytest.raises(InvalidInputError, match="order key"):
            store.runs.search("p", order_by=["params.family"])
        with pytest.raises(InvalidInputError, match="positive"):
            store.runs.search("p", limit=0)

    # --- models -----------------------------------------------------------------------------

    def _register(self, store: MetadataStore, name: str = "churn", n: int = 1) -> None:
        for _ in range(n):
            store.models.create_version(name, artifact="a" * 64, task="binary", actor="ci")

    def test_versions_number_per_name(self, store: MetadataStore) -> None:
        first = store.models.create_version(
            "churn",
            artifact="a" * 64,
            task="binary",
            run_id="r1",
            dataset_id="d1",
            metrics={"auc": 0.8},
            signature={"columns": ["x"]},
            gates=[{"name": "min_auc", "passed": True, "value": 0.8, "limit": 0.7, "message": ""}],
            description="first",
        )
        self._register(store, "churn")
        self._register(store, "fraud")
        assert first.version == 1 and first.stage == "candidate"
        assert store.models.get_version("churn", 1) == first
        assert [v.ref for v in store.models.list_versions()] == ["churn:1", "churn:2", "fraud:1"]
        assert [v.ref for v in store.models.list_versions("fraud")] == ["fraud:1"]
        assert store.models.list_names() == ["churn", "fraud"]

    def test_missing_version_names_known_versions(self, store: MetadataStore) -> None:
        self._register(store, "churn", 2)
        with pytest.raises(NotFoundError, match=r"1, 2"):
            store.models.get_version("churn", 7)
        with pytest.raises(NotFoundError, match="churn"):
            store.models.get_version("nobody", 1)

    def test_update_version_merges_metrics_and_audits(self, store: MetadataStore) -> None:
        store.models.create_version("churn", artifact="a" * 64, task="binary", metrics={"auc": 0.8})
        updated = store.models.update_version(
            "churn", 1, stage="staging", metrics={"f1": 0.6}, gates=[], actor="ann", reason="ok"
        )
        assert updated.stage == "staging"
        assert updated.metrics == {"auc": 0.8, "f1": 0.6}
        event = store.audit.list(target="churn:1")[-1]
        assert (event.actor, event.action, event.reason) == ("ann", "model.update", "ok")
        assert event.details["stage"] == {"from": "candidate", "to": "staging"}
        with pytest.raises(NotFoundError):
            store.models.update_version("churn", 9, stage="archived")
        with pytest.raises(InvalidInputError):
            store.models.update_version("churn", 1, stage="bogus")  # type: ignore[arg-type]

    def test_alias_set_move_delete(self, store: MetadataStore) -> None:
        self._register(store, "churn", 2)
        assert store.models.set_alias("churn", "champion", 1, actor="ann", reason="won") is None
        assert store.models.get_alias("churn", "champion") == 1
        assert store.models.set_alias("churn", "champion", 2) == 1
        store.models.set_alias("churn", "challenger", 1)
        assert store.models.aliases("churn") == {"challenger": 1, "champion": 2}
        assert store.models.get_version("churn", 2).aliases == ("champion",)
        by_ref = {v.ref: v.aliases for v in store.models.list_versions("churn")}
        assert by_ref == {"churn:1": ("challenger",), "churn:2": ("champion",)}
        store.models.delete_alias("churn", "challenger", actor="bob", reason="done")
        assert store.models.aliases("churn") == {"champion": 2}
        actions = [(e.action, e.target, e.actor) for e in store.audit.list(target="churn")]
        assert actions[-4:] == [
            ("alias.set", "churn@champion", "ann"),
            ("alias.set", "churn@champion", "loopml"),
            ("alias.set", "churn@challenger", "loopml"),
            ("alias.delete", "churn@challenger", "bob"),
        ]

    def test_missing_alias_lists_existing_ones(self, store: MetadataStore) -> None:
        self._register(store, "churn")
        store.models.set_alias("churn", "champion", 1)
        with pytest.raises(NotFoundError, match="champion"):
            store.models.get_alias("churn", "shadow")
        with pytest.raises(NotFoundError):
            store.models.delete_alias("churn", "shadow")
        with pytest.raises(NotFoundError):
            store.models.set_alias("churn", "shadow", 5)
        assert store.models.aliases("churn") == {"champion": 1}

    def test_registration_is_audited_with_actor(self, store: MetadataStore) -> None:
        self._register(store, "churn")
        (event,) = store.audit.list(target="churn")
        assert (event.actor, event.action, event.target) == ("ci", "model.register", "churn:1")

    def test_alias_details_are_kept_in_its_audit_event(self, store: MetadataStore) -> None:
        self._register(store, "churn")
        store.models.set_alias("churn", "champion", 1, actor="ann", details={"forced": True})
        (event,) = [e for e in store.audit.list(target="churn") if e.action == "alias.set"]
        assert event.details == {"forced": True, "version": 1, "previous": None}

    def test_approvals_are_stored_per_version_and_audited(self, store: MetadataStore) -> None:
        self._register(store, "churn")
        self._register(store, "churn")
        first = store.models.add_approval("churn", 1, approver="ann", reason="fair", details={})
        second = store.models.add_approval("churn", 2, approver="bob", reason="ok")
        third = store.models.add_approval("churn", 1, approver="cy", reason="re-checked")
        assert (first.ref, first.approver, first.reason) == ("churn:1", "ann", "fair")
        assert first.time.utcoffset() == timedelta(0)
        assert store.models.approvals("churn", 1) == [first, third]
        assert store.models.approvals("churn") == [first, second, third]
        assert store.models.approvals("fraud") == []
        events = [e for e in store.audit.list(target="churn:1") if e.action == "model.approve"]
        assert [(e.actor, e.reason) for e in events] == [("ann", "fair"), ("cy", "re-checked")]
        assert events[0].details["approval_id"] == first.id

    def test_approval_of_missing_version_or_without_reason_writes_nothing(
        self, store: MetadataStore
    ) -> None:
        self._register(store, "churn")
        with pytest.raises(NotFoundError):
            store.models.add_approval("churn", 5, approver="ann", reason="fair")
        with pytest.raises(InvalidInputError, match="reason"):
            store.models.add_approval("churn", 1, approver="ann", reason="  ")
        with pytest.raises(InvalidInputError, match="approver"):
            store.models.add_approval("churn", 1, approver="", reason="fair")
        assert store.models.approvals("churn") == []
        assert [e.action for e in store.audit.list(target="churn")] == ["model.register"]

    # --- audit ------------------------------------------------------------------------------

    def test_audit_append_and_target_matching(self, store: MetadataStore) -> None:
        event = store.audit.append("ann", "approve", "churn:3", reason="fair", details={"k": 1})
        store.audit.append("bob", "note", "churn@champion")
        store.audit.append("bob", "note", "churned:1")
        store.audit.append("bob", "note", "churn")
        assert event.id > 0 and event.time.utcoffset() == timedelta(0)
        assert store.audit.list(target="churn:3") == [event]
        assert [e.target for e in store.audit.list(target="churn")] == [
            "churn:3",
            "churn@champion",
            "churn",
        ]
        assert len(store.audit.list()) == 4
        assert [e.target for e in store.audit.list(limit=2)] == ["churned:1", "churn"]

    # --- deployments ------------------------------------------------------------------------

    def test_deployment_put_get_list(self, store: MetadataStore) -> None:
        first = store.deployments.put("prod", {"kind": "single", "model": "churn@champion"})
        store.deployments.put("beta", {"kind": "shadow"})
        replaced = store.deployments.put(
            "prod", {"kind": "canary", "weight": 0.1}, actor="ann", reason="try v2"
        )
        assert store.deployments.get("prod") == replaced
        assert replaced.updated_at >= first.updated_at
        assert [d.name for d in store.deployments.list()] == ["beta", "prod"]
        event = store.audit.list(target="deployment:prod")[-1]
        assert (event.actor, event.reason) == ("ann", "try v2")
        assert event.details["previous"] == {"kind": "single", "model": "churn@champion"}
        with pytest.raises(NotFoundError, match="beta"):
            store.deployments.get("staging")

    def test_a_conditional_deployment_put_writes_only_over_what_was_read(
        self, store: MetadataStore
    ) -> None:
        read = store.deployments.put("prod", {"kind": "canary", "step": 0})
        stale = read.updated_at - timedelta(seconds=1)
        with pytest.raises(ConflictError, match="changed since it was read"):
            store.deployments.put("prod", {"kind": "canary", "step": 9}, if_updated_at=stale)
        with pytest.raises(ConflictError):
            store.deployments.put("new", {"kind": "single"}, if_updated_at=read.updated_at)
        written = store.deployments.put(
            "prod", {"kind": "canary", "step": 1}, if_updated_at=read.updated_at
        )
        assert store.deployments.get("prod") == written
        assert [d.name for d in store.deployments.list()] == ["prod"]
        assert len(store.audit.list(target="deployment:prod")) == 2

    def test_racing_conditional_deployment_puts_let_exactly_one_win(self, store_url: str) -> None:
        with open_store(store_url) as store:
            read = store.deployments.put("prod", {"kind": "canary", "step": 0})
        writers = [open_store(store_url) for _ in range(4)]
        barrier = threading.Barrier(len(writers))

        def attempt(i: int) -> bool:
            barrier.wait()
            try:
                writers[i].deployments.put(
                    "prod", {"kind": "canary", "step": i + 1}, if_updated_at=read.updated_at
                )
            except ConflictError:
                return False
            return True

        try:
            with ThreadPoolExecutor(len(writers)) as pool:
                won = list(pool.map(attempt, range(len(writers))))
        finally:
            for writer in writers:
                writer.close()
        with open_store(store_url) as store:
            assert sum(won) == 1
            assert store.deployments.get("prod").policy["step"] == won.index(True) + 1
            assert len(store.audit.list(target="deployment:prod")) == 2

    def test_deployment_request_counts_sum_workers_of_the_current_policy(
        self, store: MetadataStore
    ) -> None:
        first = store.deployments.put("prod", {"kind": "canary", "weight": 0.1})
        counts = store.deployments.request_counts
        assert counts("prod", first.updated_at) == {}
        store.deployments.report_requests("prod", first.updated_at, "w1", {"stable": (5, 0)})
        store.deployments.report_requests(
            "prod", first.updated_at, "w1", {"stable": (9, 1), "candidate": (2, 1)}
        )  # replaces w1's earlier totals
        store.deployments.report_requests("prod", first.updated_at, "w2", {"candidate": (4, 0)})
        assert counts("prod", first.updated_at) == {"candidate": (6, 1), "stable": (9, 1)}

        ramped = store.deployments.put("prod", {"kind": "canary", "weight": 0.5})
        assert counts("prod", ramped.updated_at) == {}  # a new policy starts from zero
        assert counts("prod", first.updated_at) == {}
        store.deployments.report_requests("prod", first.updated_at, "w2", {"candidate": (7, 7)})
        store.deployments.report_requests("absent", first.updated_at, "w2", {"a": (1, 1)})
        assert counts("prod", first.updated_at) == {}  # late reports of the old policy: ignored
        assert counts("absent", first.updated_at) == {}
        store.deployments.report_requests("prod", ramped.updated_at, "w1", {"candidate": (3, 0)})
        assert counts("prod", store.deployments.get("prod").updated_at) == {"candidate": (3, 0)}

    # --- predictions and feedback -----------------------------------------------------------

    def test_prediction_roundtrip(self, store: MetadataStore) -> None:
        records = [prediction("r1"), prediction("r2", minutes=1)]
        assert store.predictions.add(records) == 2
        assert store.predictions.add([]) == 0
        assert store.predictions.get("r1") == records[0]
        with pytest.raises(NotFoundError, match="r9"):
            store.predictions.get("r9")

    def test_duplicate_request_id_rejects_whole_batch(self, store: MetadataStore) -> None:
        store.predictions.add([prediction("r1")])
        with pytest.raises(AlreadyExistsError, match="r1"):
            store.predictions.add([prediction("r2"), prediction("r1")])
        with pytest.raises(AlreadyExistsError, match="r3"):
            store.predictions.add([prediction("r3"), prediction("r3")])
        assert [p.request_id for p in store.predictions.list()] == ["r1"]

    def test_prediction_filters(self, store: MetadataStore) -> None:
        store.predictions.add([prediction(f"r{i}", minutes=i, version=1 + i % 2) for i in range(6)])
        ids = lambda records: [r.request_id for r in records]  # noqa: E731
        assert ids(store.predictions.list()) == [f"r{i}" for i in range(6)]
        assert ids(store.predictions.list(model_version=2)) == ["r1", "r3", "r5"]
        assert ids(store.predictions.list(model_name="other")) == []
        window = store.predictions.list(
            since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)
        )
        assert ids(window) == ["r2", "r3"]
        oslo = timezone(timedelta(hours=2))
        since_local = (T0 + timedelta(minutes=4)).astimezone(oslo)
        assert ids(store.predictions.list(since=since_local)) == ["r4", "r5"]
        assert ids(store.predictions.list(limit=2)) == ["r0", "r1"]

    def test_prediction_activity_counts_per_version_and_deployment(
        self, store: MetadataStore
    ) -> None:
        records = [prediction(f"r{i}", minutes=i, version=1 + i % 2) for i in range(5)]
        records.append(replace(prediction("canary", minutes=9), deployment="canary"))
        store.predictions.add(records)
        activity = store.predictions.activity(model_name="churn")
        assert [(a.model_version, a.deployment, a.count) for a in activity] == [
            (1, "canary", 1),
            (1, "prod", 3),
            (2, "prod", 2),
        ]
        assert (activity[1].first, activity[1].last) == (T0, T0 + timedelta(minutes=4))
        assert [a.count for a in store.predictions.activity(model_version=2)] == [2]
        assert store.predictions.activity(model_name="nobody") == []

    def test_feedback_replace_and_select(self, store: MetadataStore) -> None:
        store.predictions.add([prediction("r1"), prediction("r2"), prediction("r3")])
        assert store.predictions.add_feedback([Feedback("r1", "no"), Feedback("r2", 1.5)]) == 2
        store.predictions.add_feedback([Feedback("r1", "yes", T0)])
        labels = {k: v.label for k, v in store.predictions.feedback().items()}
        assert labels == {"r1": "yes", "r2": 1.5}
        assert store.predictions.feedback(["r1", "r3"]) == {"r1": Feedback("r1", "yes", T0)}

    def test_feedback_for_unknown_request_rejects_whole_batch(self, store: MetadataStore) -> None:
        store.predictions.add([prediction("r1")])
        with pytest.raises(NotFoundError, match="ghost"):
            store.predictions.add_feedback([Feedback("r1", "yes"), Feedback("ghost", "no")])
        assert store.predictions.feedback() == {}

    # --- monitoring -------------------------------------------------------------------------

    def test_monitor_reports_newest_first(self, store: MetadataStore) -> None:
        first = store.monitoring.add(
            "p",
            window={"start": "2024-01-01"},
            summary={"drift": 0.1},
            model_name="churn",
            model_version=1,
            artifact="f" * 64,
        )
        second = store.monitoring.add("p", window={}, summary={"drift": 0.3}, model_name="fraud")
        store.monitoring.add("q", window={}, summary={})
        assert store.monitoring.list("p") == [second, first]
        assert store.monitoring.list("p", model_name="churn") == [first]
        assert store.monitoring.list("p", limit=1) == [second]
        assert first.summary == {"drift": 0.1} and first.time.utcoffset() == timedelta(0)

    # --- alerts -----------------------------------------------------------------------------

    def test_alert_history_newest_first_with_filters(self, store: MetadataStore) -> None:
        def fire(rule: str, minutes: int, model: str = "churn", project: str = "p") -> AlertRecord:
            return store.alerts.add(
                project,
                rule=rule,
                severity="warning",
                metric="share_drifted",
                value=0.6,
                threshold=0.5,
                message=f"{rule} fired",
                fingerprint=f"{project}/{rule}/{model}",
                channels=["log", "webhook"],
                model_name=model,
                model_version=2,
                time=T0 + timedelta(minutes=minutes),
            )

        first = fire("drift", 0)
        second = fire("auc", 5)
        third = fire("drift", 10, model="fraud")
        fire("drift", 20, project="q")
        assert store.alerts.list("p") == [third, second, first]
        assert store.alerts.list("p", rule="drift") == [third, first]
        assert store.alerts.list("p", model_name="churn") == [second, first]
        assert store.alerts.list("p", since=T0 + timedelta(minutes=5)) == [third, second]
        assert store.alerts.list("p", limit=1) == [third]
        assert first.channels == ["log", "webhook"] and first.value == 0.6
        assert first.time == T0 and first.model_version == 2

    def test_alert_last_by_fingerprint(self, store: MetadataStore) -> None:
        assert store.alerts.last("p/drift/churn") is None
        for minutes in (0, 30, 15):
            store.alerts.add(
                "p",
                rule="drift",
                severity="critical",
                metric="dataset_drift",
                value=None,
                threshold=None,
                message="drift",
                fingerprint="p/drift/churn",
                time=T0 + timedelta(minutes=minutes),
            )
        last = store.alerts.last("p/drift/churn")
        assert last is not None and last.time == T0 + timedelta(minutes=30)
        assert last.value is None and last.channels == []

    # --- transactions and concurrency -------------------------------------------------------

    def test_failed_batch_leaves_nothing_behind(self, store: MetadataStore) -> None:
        run = store.runs.create("p", "r", "train")
        store.runs.log_batch(run.id, params={"a": 1})
        with pytest.raises(InvalidInputError):
            store.runs.log_batch(
                run.id,
                params={"a": 2},
                metrics=[MetricPoint("m", 1.0)],
                tags={"t": "x"},
                artifacts={"model": "e" * 64},
            )
        got = store.runs.get(run.id)
        assert (got.params, got.metrics, got.tags, got.artifacts) == ({"a": "1"}, {}, {}, {})

    def test_processes_writing_at_once_lose_nothing(self, store_url: str) -> None:
        with open_store(store_url):
            pass  # migrate once, like a project's `loopml init`
        n_workers, n_runs, n_metrics = 4, 8, 20
        context = multiprocessing.get_context("spawn")
        jobs = [(store_url, f"worker{i}", n_runs, n_metrics) for i in range(n_workers)]
        with context.Pool(n_workers) as pool:
            pool.starmap(log_runs, jobs)
            versions = sorted(v for vs in pool.starmap(register_versions, jobs) for v in vs)
        with open_store(store_url) as store:
            runs = store.runs.list("concurrency")
            assert len(runs) == n_workers * n_runs
            assert all(r.status == "finished" and r.metrics["step"] == n_metrics - 1 for r in runs)
            histories = [store.runs.metric_history(r.id, "step") for r in runs]
            assert all(len(h) == n_metrics for h in histories)
            assert versions == list(range(1, n_workers * n_runs + 1))
            assert len(store.audit.list(target="concurrent")) == n_workers * n_runs

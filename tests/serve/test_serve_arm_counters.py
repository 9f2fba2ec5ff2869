"""Per-arm request counters: what one worker reports to the store, and when."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from loopml.serve import ArmCounters
from loopml.store import SqlMetadataStore, open_store


def _writes(store: SqlMetadataStore) -> int:
    with store.engine.connect() as conn:
        return len(conn.execute(sa.text("SELECT updated_at FROM deployment_requests")).all())


def test_a_worker_reports_its_counts_under_the_policy_it_counted_for(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'meta.db'}") as store:
        assert isinstance(store, SqlMetadataStore)
        first = store.deployments.put("churn", {"kind": "canary"})
        counters = ArmCounters(worker="w1")
        counters.record("churn", "stable", failed=False)
        counters.report(store.deployments)
        assert store.deployments.request_counts("churn", first.updated_at) == {}  # no policy yet

        counters.reset("churn", first.updated_at)
        for failed in (False, False, True):
            counters.record("churn", "candidate", failed=failed)
        counters.record("churn", "stable", failed=False)
        counters.report(store.deployments)
        assert store.deployments.request_counts("churn", first.updated_at) == {
            "candidate": (3, 1),
            "stable": (1, 0),
        }

        with store.engine.begin() as conn:  # an unchanged report writes nothing
            conn.execute(sa.text("DELETE FROM deployment_requests"))
        counters.report(store.deployments)
        assert _writes(store) == 0
        counters.record("churn", "stable", failed=False)
        counters.report(store.deployments)
        assert store.deployments.request_counts("churn", first.updated_at)["stable"] == (2, 0)

        second = store.deployments.put("churn", {"kind": "canary", "step": 1})
        counters.report(store.deployments)  # still counting the replaced policy: ignored
        assert store.deployments.request_counts("churn", second.updated_at) == {}
        counters.reset("churn", second.updated_at)
        counters.record("churn", "candidate", failed=True)
        counters.report(store.deployments)
        assert store.deployments.request_counts("churn", second.updated_at) == {"candidate": (1, 1)}

"""Governed promotion: protected aliases need passed gates (and approvals), forcing is audited,
rollback walks back through an alias's history, archive retires a version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from loopml.errors import GateFailedError, InvalidInputError, NotFoundError
from loopml.registry import CHAMPION, Governance, GovernancePolicy
from loopml.store import MetadataStore, open_store

PASSED = [{"name": "min_score", "passed": True, "value": 0.9, "limit": 0.8, "message": "ok"}]
FAILED = [
    {
        "name": "min_score",
        "passed": False,
        "value": 0.7,
        "limit": 0.8,
        "message": "roc_auc 0.7 is 0.1 below the minimum 0.8.",
    }
]


@pytest.fixture
def store() -> Iterator[MetadataStore]:
    with open_store("sqlite://") as opened:
        yield opened


def register(store: MetadataStore, gates: list[dict[str, Any]], n: int = 1) -> None:
    for _ in range(n):
        store.models.create_version("churn", artifact="a" * 64, task="binary", gates=gates)


def alias_events(store: MetadataStore) -> list[dict[str, Any]]:
    return [e.details for e in store.audit.list(target="churn@champion")]


def test_promote_with_passed_gates_moves_champion_and_stages(store: MetadataStore) -> None:
    register(store, PASSED, n=2)
    gov = Governance(store)
    first = gov.promote("churn", 1, actor="ann", reason="first")
    second = gov.promote("churn", 2, actor="bob", reason="better")
    assert (first.previous, second.previous, second.forced) == (None, 1, False)
    assert store.models.aliases("churn") == {"champion": 2}
    assert store.models.get_version("churn", 2).stage == "production"
    assert store.models.get_version("churn", 1).stage == "archived"
    (event,) = [e for e in store.audit.list(target="churn@champion") if e.actor == "bob"]
    assert event.reason == "better"
    assert event.details["operation"] == "promote" and event.details["forced"] is False


def test_failed_gate_blocks_protected_alias_and_says_by_how_much(store: MetadataStore) -> None:
    register(store, FAILED)
    with pytest.raises(GateFailedError, match=r"0\.1 below the minimum 0\.8") as info:
        Governance(store).promote("churn", 1, actor="ann", reason="try")
    assert "churn:1 cannot become churn@champion" in info.value.message
    assert store.models.aliases("churn") == {}


def test_unprotected_alias_moves_without_checks(store: MetadataStore) -> None:
    register(store, FAILED)
    Governance(store).promote("churn", 1, "shadow", actor="ann", reason="look")
    assert store.models.aliases("churn") == {"shadow": 1}


def test_version_without_gate_results_cannot_be_champion(store: MetadataStore) -> None:
    register(store, [])
    with pytest.raises(GateFailedError, match="no recorded acceptance gate results"):
        Governance(store).promote("churn", 1, actor="ann", reason="x")


def test_required_approval_is_named_with_the_command_to_run(store: MetadataStore) -> None:
    register(store, PASSED)
    gov = Governance(store, GovernancePolicy(require_approval=True))
    with pytest.raises(GateFailedError) as info:
        gov.promote("churn", 1, actor="ann", reason="x")
    assert "needs an approval: run `loopml models approve churn:1 --by NAME --reason TEXT`" in (
        info.value.message
    )
    gov.approve("churn", 1, by="carol", reason="reviewed the fairness report")
    promotion = gov.promote("churn", 1, actor="ann", reason="approved")
    assert promotion.approvals == ("carol",)
    assert alias_events(store)[-1]["approvals"] == ["carol"]
    assert [e.action for e in store.audit.list(target="churn:1")] == [
        "model.register",
        "model.approve",
        "model.update",
    ]


def test_force_needs_a_reason_and_is_audited_as_forced(store: MetadataStore) -> None:
    register(store, FAILED)
    gov = Governance(store, GovernancePolicy(require_approval=True))
    with pytest.raises(InvalidInputError, match="needs a reason"):
        gov.promote("churn", 1, actor="ann", reason=" ", force=True)
    assert store.models.aliases("churn") == {}
    promotion = gov.promote("churn", 1, actor="ann", reason="incident 42 hotfix", force=True)
    assert promotion.forced
    details = alias_events(store)[-1]
    assert details["forced"] is True
    assert any("needs an approval" in b for b in details["bypassed"])
    assert any("gate min_score failed" in b for b in details["bypassed"])


def test_charter_policy_protects_custom_aliases() -> None:
    class Settings:
        protected_aliases = ["champion", "prod"]
        require_approval = True

    policy = GovernancePolicy.of(Settings())
    assert policy == GovernancePolicy(("champion", "prod"), True)
    assert policy.is_protected("prod") and not policy.is_protected("challenger")


def test_rollback_walks_back_one_step_at_a_time(store: MetadataStore) -> None:
    register(store, PASSED, n=3)
    gov = Governance(store)
    for version in (1, 2, 3):
        gov.promote("churn", version, actor="ci", reason=f"v{version}")
    back = gov.rollback("churn", actor="ann", reason="v3 misbehaves")
    assert (back.version, back.previous) == (2, 3)
    assert store.models.get_version("churn", 2).stage == "production"
    assert store.models.get_version("churn", 3).stage == "archived"
    assert gov.rollback("churn", actor="ann").version == 1
    with pytest.raises(NotFoundError, match="no earlier version to roll back to"):
        gov.rollback("churn", actor="ann")
    assert store.models.aliases("churn") == {CHAMPION: 1}
    rollbacks = [d for d in alias_events(store) if d.get("operation") == "rollback"]
    assert [(d["version"], d["rolled_back"]) for d in rollbacks] == [(2, 3), (1, 2)]


def test_rollback_after_new_promotion_restores_the_replaced_version(
    store: MetadataStore,
) -> None:
    register(store, PASSED, n=3)
    gov = Governance(store)
    gov.promote("churn", 1, actor="ci", reason="a")
    gov.promote("churn", 2, actor="ci", reason="b")
    gov.rollback("churn", actor="ci")
    gov.promote("churn", 3, actor="ci", reason="c")
    assert gov.rollback("churn", actor="ci").version == 1


def test_archive_refuses_a_protected_holder_and_drops_other_aliases(
    store: MetadataStore,
) -> None:
    register(store, PASSED, n=2)
    gov = Governance(store)
    gov.promote("churn", 1, actor="ci", reason="a")
    gov.promote("churn", 2, "challenger", actor="ci", reason="b")
    assert store.models.get_version("churn", 2).stage == "staging"
    with pytest.raises(InvalidInputError, match="while it is churn@champion"):
        gov.archive("churn", 1, actor="ann", reason="old")
    archived = gov.archive("churn", 2, actor="ann", reason="lost the A/B test")
    assert (archived.stage, archived.aliases) == ("archived", ())
    events = store.audit.list(target="churn:2")
    assert events[-1].action == "model.update" and events[-1].reason == "lost the A/B test"
    with pytest.raises(GateFailedError, match="is archived"):
        gov.promote("churn", 2, actor="ann", reason="again")

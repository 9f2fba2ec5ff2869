"""Governed promotion: protected aliases, approvals, rollback and lifecycle stages.

Every alias move of a protected alias (``champion`` by default) goes through
:meth:`Governance.promote`, which checks the version's acceptance gates and, when the policy asks
for it, a recorded approval. Each change is an audit event saying who, when and why; the checks
that allowed a move are stored in that event's details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from loopml.errors import GateFailedError, InvalidInputError, NotFoundError
from loopml.registry._ref import CHALLENGER, CHAMPION
from loopml.store import Approval, AuditEvent, MetadataStore, ModelVersion
from loopml.store._records import ModelStage

STAGE_OF_ALIAS: dict[str, ModelStage] = {CHAMPION: "production", CHALLENGER: "staging"}
"""The lifecycle stage a version enters when it takes one of these aliases."""


class RegistrySettings(Protocol):
    """What the charter's ``registry:`` section provides."""

    protected_aliases: list[str]
    require_approval: bool


@dataclass(frozen=True)
class GovernancePolicy:
    """Which aliases are protected and whether moving one needs an approval."""

    protected_aliases: tuple[str, ...] = (CHAMPION,)
    require_approval: bool = False

    @classmethod
    def of(cls, settings: RegistrySettings) -> GovernancePolicy:
        """The policy of a charter's ``registry:`` section."""
        return cls(tuple(settings.protected_aliases), settings.require_approval)

    def is_protected(self, alias: str) -> bool:
        return alias in self.protected_aliases


@dataclass(frozen=True)
class Promotion:
    """The outcome of a promotion or rollback: ``name@alias`` now points at ``version``."""

    name: str
    alias: str
    version: int
    previous: int | None
    forced: bool = False
    approvals: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": f"{self.name}:{self.version}",
            "alias": self.alias,
            "previous": self.previous,
            "forced": self.forced,
            "approvals": list(self.approvals),
        }


class Governance:
    """The rules for moving aliases and changing stages, over one metadata store.

    Thread- and process-safe as far as the store is: each change is one store transaction plus,
    for stage changes that follow an alias move, one more.
    """

    def __init__(self, store: MetadataStore, policy: GovernancePolicy | None = None) -> None:
        self._store = store
        self.policy = policy or GovernancePolicy()

    # -- checks --------------------------------------------------------------------------------
    def missing_requirements(self, version: ModelVersion, alias: str) -> list[str]:
        """What stops ``version`` from taking ``alias`` (empty when nothing does): one sentence
        per failed gate, a missing approval, or the version being archived."""
        if not self.policy.is_protected(alias):
            return []
        missing: list[str] = []
        if version.stage == "archived":
            missing.append(f"{version.ref} is archived.")
        if not version.gates:
            missing.append(f"{version.ref} has no recorded acceptance gate results.")
        missing.extend(
            f"gate {g.get('name', '?')} failed: {g.get('message', '')}".strip()
            for g in version.gates
            if not g.get("passed")
        )
        if self.policy.require_approval and not self.approvals(version.name, version.version):
            missing.append(
                f"{version.ref} needs an approval: run `loopml models approve {version.ref} "
                "--by NAME --reason TEXT`."
            )
        return missing

    def approvals(self, name: str, version: int) -> list[Approval]:
        return self._store.models.approvals(name, version)

    # -- changes -------------------------------------------------------------------------------
    def approve(self, name: str, version: int, *, by: str, reason: str) -> Approval:
        """Record ``by``'s approval of ``name:version`` (audited as ``model.approve``).

        Raises:
            NotFoundError: no such version.
            InvalidInputError: ``by`` or ``reason`` is empty.
        """
        return self._store.models.add_approval(name, version, approver=by, reason=reason)

    def promote(
        self,
        name: str,
        version: int,
        alias: str = CHAMPION,
        *,
        actor: str,
        reason: str,
        force: bool = False,
    ) -> Promotion:
        """Point ``name@alias`` at ``version``.

        A protected alias moves only when the version's gates all passed, it is not archived and
        (with ``require_approval``) it has an approval, unless ``force`` is set: then ``reason``
        must be non-empty and the audit event records the move as forced, with what it bypassed.
        Taking ``champion`` puts the version in stage ``production`` (the replaced champion goes
        to ``archived``); taking ``challenger`` moves a candidate to ``staging``.

        Raises:
            NotFoundError: no such version.
            GateFailedError: a requirement is missing (the message lists every one).
            InvalidInputError: ``force`` without a reason.
        """
        target = self._store.models.get_version(name, version)
        missing = self.missing_requirements(target, alias)
        if force and not reason.strip():
            raise InvalidInputError(
                f"Forcing {name}@{alias} onto {target.ref} needs a reason.",
                hint="Pass --reason TEXT; it is kept in the audit log.",
            )
        if missing and not force:
            raise GateFailedError(
                f"{target.ref} cannot become {name}@{alias}: {' '.join(missing)}",
                hint="Fix what is missing, or pass --force with a --reason (audited as forced).",
            )
        approvals = tuple(a.approver for a in self.approvals(name, version))
        details: dict[str, Any] = {
            "operation": "promote",
            "protected": self.policy.is_protected(alias),
            "approval_required": self.policy.is_protected(alias) and self.policy.require_approval,
            "forced": bool(force and missing),
            "bypassed": missing if force else [],
            "approvals": list(approvals),
        }
        previous = self._store.models.set_alias(
            name, alias, version, actor=actor, reason=reason, details=details
        )
        self._follow_stage(target, alias, previous, actor=actor, reason=reason)
        return Promotion(name, alias, version, previous, details["forced"], approvals)

    def rollback(
        self, name: str, alias: str = CHAMPION, *, actor: str, reason: str = ""
    ) -> Promotion:
        """Point ``name@alias`` back at the version it held before its latest move, in one step
        (audited). Repeated rollbacks walk further back through the alias's history.

        Raises:
            NotFoundError: the alias has never pointed at another version.
        """
        history = self.alias_history(name, alias)
        current = self._store.models.aliases(name).get(alias)
        if not history:
            raise NotFoundError(
                f"{name}@{alias} has no earlier version to roll back to.",
                hint=f"See its history with `loopml audit {name}@{alias}`.",
            )
        restored = history[-1]
        why = reason or (f"rolled back from v{current}" if current else "rolled back")
        details = {"operation": "rollback", "rolled_back": current}
        previous = self._store.models.set_alias(
            name, alias, restored, actor=actor, reason=why, details=details
        )
        target = self._store.models.get_version(name, restored)
        self._follow_stage(target, alias, previous, actor=actor, reason=why)
        return Promotion(name, alias, restored, previous)

    def archive(self, name: str, version: int, *, actor: str, reason: str) -> ModelVersion:
        """Move ``name:version`` to stage ``archived`` and drop its unprotected aliases (audited).

        Raises:
            NotFoundError: no such version.
            InvalidInputError: a protected alias points at it (move or roll back that first).
        """
        target = self._store.models.get_version(name, version)
        held = [a for a in target.aliases if self.policy.is_protected(a)]
        if held:
            raise InvalidInputError(
                f"{target.ref} cannot be archived while it is "
                f"{', '.join(f'{name}@{a}' for a in held)}.",
                hint=f"Promote another version or run `loopml models rollback {name}` first.",
            )
        for alias in target.aliases:
            self._store.models.delete_alias(name, alias, actor=actor, reason=f"archived: {reason}")
        return self._store.models.update_version(
            name, version, stage="archived", actor=actor, reason=reason or "archived"
        )

    def set_stage(
        self, name: str, version: int, stage: ModelStage, *, actor: str, reason: str
    ) -> ModelVersion:
        """Change a version's lifecycle stage (audited as ``model.update``).

        Raises:
            NotFoundError: no such version.
            InvalidInputError: unknown stage.
        """
        if stage == "archived":
            return self.archive(name, version, actor=actor, reason=reason)
        return self._store.models.update_version(
            name, version, stage=stage, actor=actor, reason=reason
        )

    def request_approval(self, name: str, version: int, alias: str, *, reason: str) -> AuditEvent:
        """Record (as an ``approval.request`` audit event) that ``name:version`` is waiting for an
        approval before it can take ``alias``."""
        return self._store.audit.append(
            "loopml",
            "approval.request",
            f"{name}:{version}",
            reason=reason,
            details={"alias": alias},
        )

    # -- history -------------------------------------------------------------------------------
    def alias_history(self, name: str, alias: str) -> list[int]:
        """The versions a rollback of ``name@alias`` would restore, most recent last."""
        return _rollback_stack(self._store.audit.list(target=f"{name}@{alias}"), f"{name}@{alias}")

    def _follow_stage(
        self, target: ModelVersion, alias: str, previous: int | None, *, actor: str, reason: str
    ) -> None:
        stage = STAGE_OF_ALIAS.get(alias)
        if stage is None or (stage == "staging" and target.stage != "candidate"):
            return
        models = self._store.models
        models.update_version(target.name, target.version, stage=stage, actor=actor, reason=reason)
        if alias == CHAMPION and previous is not None and previous != target.version:
            models.update_version(
                target.name,
                previous,
                stage="archived",
                actor=actor,
                reason=f"replaced as {alias} by {target.ref}",
            )


def _rollback_stack(events: Sequence[AuditEvent], target: str) -> list[int]:
    """Replay an alias's audit events: each move pushes the version it replaced, each rollback
    pops the version it restored."""
    stack: list[int] = []
    for event in events:
        if event.target != target or event.action not in ("alias.set", "alias.delete"):
            continue
        previous = event.details.get("previous")
        if event.details.get("operation") == "rollback":
            if stack:
                stack.pop()
        elif previous is not None and previous != event.details.get("version"):
            stack.append(int(previous))
    return stack

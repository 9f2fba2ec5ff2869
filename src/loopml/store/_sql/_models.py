"""Model versions and aliases in SQL; every change is audited in the same transaction."""

from __future__ import annotations

import builtins
from typing import Any, get_args

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from loopml.errors import AlreadyExistsError, InvalidInputError, NotFoundError, StoreError
from loopml.store._base import ModelStore
from loopml.store._records import Approval, ModelStage, ModelVersion, utcnow
from loopml.store._sql._approvals import insert_approval, select_approvals
from loopml.store._sql._audit import append_event
from loopml.store._sql._common import preview
from loopml.store._sql._database import Database
from loopml.store._sql._tables import model_aliases, model_versions

_NUMBERING_ATTEMPTS = 50
_STAGES: tuple[str, ...] = get_args(ModelStage)


class SqlModelStore(ModelStore):
    """:class:`ModelStore` over ``model_versions`` and ``model_aliases``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_version(
        self,
        name: str,
        *,
        artifact: str,
        task: str,
        run_id: str | None = None,
        dataset_id: str | None = None,
        metrics: dict[str, float] | None = None,
        signature: dict[str, Any] | None = None,
        gates: list[dict[str, Any]] | None = None,
        description: str = "",
        actor: str = "loopml",
    ) -> ModelVersion:
        """Register the next version of ``name``.

        Raises:
            InvalidInputError: ``name`` is empty or contains ``:`` or ``@``.
        """
        _check_name("model name", name)
        values: dict[str, Any] = {
            "name": name,
            "run_id": run_id,
            "artifact": artifact,
            "task": task,
            "dataset_id": dataset_id,
            "stage": "candidate",
            "metrics": dict(metrics or {}),
            "signature": dict(signature or {}),
            "gates": list(gates or []),
            "description": description,
        }

        def work(conn: Connection) -> ModelVersion:
            latest = conn.execute(
                sa.select(sa.func.max(model_versions.c.version)).where(
                    model_versions.c.name == name
                )
            ).scalar()
            row = {**values, "version": (latest or 0) + 1, "created_at": utcnow()}
            conn.execute(sa.insert(model_versions).values(row))
            append_event(
                conn,
                actor,
                "model.register",
                f"{name}:{row['version']}",
                details={"artifact": artifact, "run_id": run_id, "task": task},
            )
            return ModelVersion(**row)

        # Two writers may pick the same number (PostgreSQL, read committed): the primary key on
        # (name, version) rejects the second, which then retries with the next number.
        for _ in range(_NUMBERING_ATTEMPTS):
            try:
                return self._db.write(work)
            except AlreadyExistsError:
                continue
        raise StoreError(
            f"Could not number a new version of model {name!r} after {_NUMBERING_ATTEMPTS} "
            "attempts under concurrent registration.",
            hint="Retry the registration.",
        )

    def get_version(self, name: str, version: int) -> ModelVersion:
        return self._db.read(lambda conn: _get(conn, name, version))

    def list_versions(self, name: str | None = None) -> list[ModelVersion]:
        def work(conn: Connection) -> list[ModelVersion]:
            query = sa.select(model_versions).order_by(
                model_versions.c.name, model_versions.c.version
            )
            alias_query = sa.select(model_aliases).order_by(model_aliases.c.alias)
            if name is not None:
                query = query.where(model_versions.c.name == name)
                alias_query = alias_query.where(model_aliases.c.name == name)
            aliases: dict[tuple[str, int], builtins.list[str]] = {}
            for a in conn.execute(alias_query):
                aliases.setdefault((a.name, a.version), []).append(a.alias)
            return [
                _record(row, aliases.get((row.name, row.version), []))
                for row in conn.execute(query)
            ]

        return self._db.read(work)

    def list_names(self) -> list[str]:
        query = sa.select(model_versions.c.name).distinct().order_by(model_versions.c.name)
        return self._db.read(lambda conn: builtins.list(conn.execute(query).scalars()))

    def update_version(
        self,
        name: str,
        version: int,
        *,
        stage: ModelStage | None = None,
        gates: builtins.list[dict[str, Any]] | None = None,
        metrics: dict[str, float] | None = None,
        actor: str = "loopml",
        reason: str = "",
    ) -> ModelVersion:
        """See :meth:`ModelStore.update_version`; a call that changes nothing is not audited.

        Raises:
            NotFoundError: no such version.
            InvalidInputError: ``stage`` is not one of candidate, staging, production, archived.
        """
        if stage is not None and stage not in _STAGES:
            raise InvalidInputError(
                f"Model stage {stage!r} is not one of {', '.join(_STAGES)}.",
                hint="Pass one of the listed stages.",
            )

        def work(conn: Connection) -> ModelVersion:
            before = _get(conn, name, version)
            changes: dict[str, Any] = {}
            if stage is not None and stage != before.stage:
                changes["stage"] = stage
            if gates is not None and gates != before.gates:
                changes["gates"] = list(gates)
            if metrics and {**before.metrics, **metrics} != before.metrics:
                changes["metrics"] = {**before.metrics, **metrics}
            if not changes:
                return before
            conn.execute(
                sa.update(model_versions)
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(changes)
            )
            details = {k: {"from": getattr(before, k), "to": v} for k, v in changes.items()}
            append_event(conn, actor, "model.update", before.ref, reason=reason, details=details)
            return _get(conn, name, version)

        return self._db.write(work)

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str = "loopml",
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> int | None:
        """See :meth:`ModelStore.set_alias`.

        Raises:
            NotFoundError: no such version.
            InvalidInputError: ``alias`` is empty, all digits, or contains ``:`` or ``@``.
        """
        _check_name("alias", alias)
        if alias.isdigit():
            raise InvalidInputError(
                f"Alias {alias!r} is all digits, which reads as a version number.",
                hint="Use a word such as 'champion' or 'challenger'.",
            )

        def work(conn: Connection) -> int | None:
            _get(conn, name, version)
            previous = _alias(conn, name, alias)
            if previous is None:
                conn.execute(
                    sa.insert(model_aliases).values(name=name, alias=alias, version=version)
                )
            else:
                conn.execute(
                    sa.update(model_aliases)
                    .where(model_aliases.c.name == name, model_aliases.c.alias == alias)
                    .values(version=version)
                )
            append_event(
                conn,
                actor,
                "alias.set",
                f"{name}@{alias}",
                reason=reason,
                details={**(details or {}), "version": version, "previous": previous},
            )
            return previous

        return self._db.write(work)

    def delete_alias(
        self, name: str, alias: str, *, actor: str = "loopml", reason: str = ""
    ) -> None:
        def work(conn: Connection) -> None:
            previous = _require_alias(conn, name, alias)
            conn.execute(
                sa.delete(model_aliases).where(
                    model_aliases.c.name == name, model_aliases.c.alias == alias
                )
            )
            append_event(
                conn,
                actor,
                "alias.delete",
                f"{name}@{alias}",
                reason=reason,
                details={"previous": previous},
            )

        self._db.write(work)

    def get_alias(self, name: str, alias: str) -> int:
        return self._db.read(lambda conn: _require_alias(conn, name, alias))

    def aliases(self, name: str) -> dict[str, int]:
        return self._db.read(lambda conn: _aliases(conn, name))

    def add_approval(
        self,
        name: str,
        version: int,
        *,
        approver: str,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> Approval:
        def work(conn: Connection) -> Approval:
            _get(conn, name, version)
            return insert_approval(
                conn, name, version, approver=approver, reason=reason, details=details
            )

        return self._db.write(work)

    def approvals(self, name: str, version: int | None = None) -> builtins.list[Approval]:
        return self._db.read(lambda conn: select_approvals(conn, name, version))


def _check_name(what: str, value: str) -> None:
    if not value or ":" in value or "@" in value:
        raise InvalidInputError(
            f"The {what} {value!r} must be non-empty and contain neither ':' nor '@'.",
            hint="Those characters separate names, versions and aliases in references.",
        )


def _record(row: sa.Row[Any], aliases: builtins.list[str]) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        run_id=row.run_id,
        artifact=row.artifact,
        task=row.task,
        dataset_id=row.dataset_id,
        stage=row.stage,
        metrics=row.metrics,
        signature=row.signature,
        gates=row.gates,
        description=row.description,
        created_at=row.created_at,
        aliases=tuple(aliases),
    )


def _get(conn: Connection, name: str, version: int) -> ModelVersion:
    row = conn.execute(
        sa.select(model_versions).where(
            model_versions.c.name == name, model_versions.c.version == version
        )
    ).one_or_none()
    if row is not None:
        aliases = sorted(a for a, v in _aliases(conn, name).items() if v == version)
        return _record(row, aliases)
    known = (
        conn.execute(
            sa.select(model_versions.c.version)
            .where(model_versions.c.name == name)
            .order_by(model_versions.c.version)
        )
        .scalars()
        .all()
    )
    if known:
        raise NotFoundError(
            f"Model {name!r} has no version {version}; its versions are {preview(known)}.",
            hint="Pass one of the listed versions.",
        )
    names = (
        conn.execute(sa.select(model_versions.c.name).distinct().order_by(model_versions.c.name))
        .scalars()
        .all()
    )
    raise NotFoundError(
        f"No model named {name!r} is registered; registered models are {preview(names)}.",
        hint="Register a version with `loopml models register` first.",
    )


def _aliases(conn: Connection, name: str) -> dict[str, int]:
    rows = conn.execute(
        sa.select(model_aliases.c.alias, model_aliases.c.version)
        .where(model_aliases.c.name == name)
        .order_by(model_aliases.c.alias)
    )
    return {alias: version for alias, version in rows}


def _alias(conn: Connection, name: str, alias: str) -> int | None:
    return conn.execute(
        sa.select(model_aliases.c.version).where(
            model_aliases.c.name == name, model_aliases.c.alias == alias
        )
    ).scalar()


def _require_alias(conn: Connection, name: str, alias: str) -> int:
    version = _alias(conn, name, alias)
    if version is None:
        raise NotFoundError(
            f"Model {name!r} has no alias {alias!r}; its aliases are "
            f"{preview([f'{a} -> {v}' for a, v in _aliases(conn, name).items()])}.",
            hint="Set it with `loopml models promote` or pass an existing alias.",
        )
    return version

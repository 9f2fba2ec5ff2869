"""The admin API: deployment operations over HTTP, behind a bearer token.

``/admin/deployments/{name}/{strategy}`` (single, blue-green, canary, shadow, ab, bandit),
``…/rollback``, ``…/advance`` and ``GET /admin/deployments/{name}`` do what ``loopml deploy …``
does. The operations come from a :class:`DeploymentAdmin` on ``app.state.admin`` and the token
from ``app.state.admin_token`` (see :func:`enable_admin`); without both the API answers 404
saying how to enable it. A missing or wrong token gets 401; tokens are compared in constant
time. Every change is audited with the actor ``admin-api:<X-Loopml-Actor header or "admin">``,
and the served deployments are reloaded at once.
"""

from __future__ import annotations

import abc
import hmac
import os
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from loopml.errors import InvalidInputError, NotFoundError
from loopml.serve._deployments import DeploymentResolver
from loopml.serve._deps import get_deployments
from loopml.serve._handlers import JSONBytesResponse

TOKEN_ENV = "LOOPML_ADMIN_TOKEN"
Strategy = Literal["single", "blue-green", "canary", "shadow", "ab", "bandit"]


class DeploymentAdmin(abc.ABC):
    """The deployment operations the admin API exposes.

    Contract: each method is blocking (the router runs it in a thread), records every change in
    the audit log under ``actor``, and raises :class:`~loopml.errors.LoopmlError` subclasses
    (shown to the client with their HTTP status) for anything the caller can fix.
    """

    @abc.abstractmethod
    def deploy(
        self, strategy: str, name: str, models: list[str], options: dict[str, Any], actor: str
    ) -> dict[str, Any]:
        """Create or change deployment ``name`` with ``strategy``; returns its new policy.

        Raises:
            InvalidInputError: an unknown option, or options the strategy refuses.
            NotFoundError: an unknown model.
            GateFailedError: a blue-green smoke check failed (nothing changed).
        """

    @abc.abstractmethod
    def rollback(self, name: str, actor: str) -> dict[str, Any]:
        """Switch deployment ``name`` back; returns its new policy. Raises NotFoundError."""

    @abc.abstractmethod
    def advance(self, name: str, actor: str) -> str:
        """One step of the rollout controller; what it did, in words. Raises NotFoundError."""

    @abc.abstractmethod
    def status(self, name: str) -> dict[str, Any]:
        """The deployment's policy, per-arm statistics and history. Raises NotFoundError."""


class DeployRequest(BaseModel):
    """A deployment change: the model(s) and the strategy's options (as ``loopml deploy``)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(
        None, description="The model (NAME, NAME:VERSION or NAME@ALIAS); not for bandit."
    )
    models: list[str] = Field(default_factory=list, description="The bandit's models.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Strategy options, e.g. steps, max_psi (canary), fraction (shadow), key, "
        "split (ab), floor, reward_kind (bandit).",
    )


def admin_token(token_file: str | os.PathLike[str] | None = None) -> str | None:
    """The admin token: the first line of ``token_file``, else ``$LOOPML_ADMIN_TOKEN``; None
    (admin API disabled) when neither is set.

    Raises:
        NotFoundError: ``token_file`` does not exist.
        InvalidInputError: ``token_file`` is empty.
    """
    if token_file is not None:
        path = Path(token_file)
        if not path.is_file():
            raise NotFoundError(f"The admin token file {path} does not exist.")
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        if not lines or not lines[0].strip():
            raise InvalidInputError(f"The admin token file {path} is empty.")
        return lines[0].strip()
    return os.environ.get(TOKEN_ENV) or None


def enable_admin(app: FastAPI, admin: DeploymentAdmin, token: str | None) -> None:
    """Turn on the admin API of ``app`` (mounted by ``create_app``) when ``token`` is set."""
    app.state.admin = admin if token else None
    app.state.admin_token = token or None


def require_admin(
    request: Request, authorization: str | None = Header(None, include_in_schema=False)
) -> DeploymentAdmin:
    """The app's admin operations, once the bearer token checks out.

    Raises:
        NotFoundError: the admin API is disabled (404).
        HTTPException: 401 for a missing or wrong token.
    """
    admin: DeploymentAdmin | None = getattr(request.app.state, "admin", None)
    token: str | None = getattr(request.app.state, "admin_token", None)
    if admin is None or not token:
        raise NotFoundError(
            "The admin API is disabled on this server.",
            hint=f"Start it with {TOKEN_ENV} set or with --admin-token-file.",
        )
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), token.encode()
    ):
        raise HTTPException(
            401,
            detail="A valid admin token is required: send 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return admin


def actor_of(x_loopml_actor: str | None = Header(None)) -> str:
    """Who makes the change, as the audit log records it."""
    return f"admin-api:{(x_loopml_actor or 'admin').strip()[:100]}"


router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/deployments/{name}")
async def deployment_status(
    name: str, admin: DeploymentAdmin = Depends(require_admin)
) -> JSONBytesResponse:
    """A deployment's policy, per-arm traffic, latency, feedback metric and history."""
    return JSONBytesResponse(await run_in_threadpool(admin.status, name))


@router.post("/deployments/{name}/rollback")
async def rollback(
    name: str,
    admin: DeploymentAdmin = Depends(require_admin),
    actor: str = Depends(actor_of),
    deployments: DeploymentResolver = Depends(get_deployments),
) -> JSONBytesResponse:
    """Switch back at once (blue-green: the other colour; rollouts: the stable model)."""
    policy = await run_in_threadpool(admin.rollback, name, actor)
    await run_in_threadpool(deployments.refresh)
    return JSONBytesResponse({"name": name, "policy": policy})


@router.post("/deployments/{name}/advance")
async def advance(
    name: str,
    admin: DeploymentAdmin = Depends(require_admin),
    actor: str = Depends(actor_of),
    deployments: DeploymentResolver = Depends(get_deployments),
) -> JSONBytesResponse:
    """One step of the rollout controller (canary ramp, A/B decision, bandit update)."""
    outcome = await run_in_threadpool(admin.advance, name, actor)
    await run_in_threadpool(deployments.refresh)
    return JSONBytesResponse({"name": name, "outcome": outcome})


@router.post("/deployments/{name}/{strategy}")
async def deploy(
    name: str,
    strategy: Strategy,
    change: DeployRequest,
    admin: DeploymentAdmin = Depends(require_admin),
    actor: str = Depends(actor_of),
    deployments: DeploymentResolver = Depends(get_deployments),
) -> JSONBytesResponse:
    """Create or change a deployment: single, blue-green, canary, shadow, ab or bandit."""
    models = list(change.models) if strategy == "bandit" else []
    if strategy != "bandit" and change.model is not None:
        models = [change.model]
    policy = await run_in_threadpool(admin.deploy, strategy, name, models, change.options, actor)
    await run_in_threadpool(deployments.refresh)
    return JSONBytesResponse({"name": name, "policy": policy})

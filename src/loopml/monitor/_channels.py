"""Where alerts go: the log, a webhook (JSON POST) or email over SMTP.

Each channel is a small class with one method, :meth:`AlertChannel.send`, which delivers one
alert (a JSON-able dict) or raises :class:`ChannelError`. Channels are passed in, so tests and
applications can add their own.
"""

from __future__ import annotations

import abc
import json
import logging
import os
import smtplib
import urllib.error
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from loopml.errors import LoopmlError

logger = logging.getLogger("loopml.alerts")
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}


class ChannelError(LoopmlError):
    """An alert could not be delivered on a channel."""


class AlertChannel(abc.ABC):
    """One way of delivering alerts. ``send`` is called once per alert, from one thread."""

    name: str = ""

    @abc.abstractmethod
    def send(self, alert: dict[str, Any]) -> None:
        """Deliver ``alert`` (keys: rule, severity, metric, value, threshold, message, model,
        project, time).

        Raises:
            ChannelError: the alert was not delivered.
        """


class LogChannel(AlertChannel):
    """Writes the alert to the ``loopml.alerts`` logger at its severity's level."""

    name = "log"

    def send(self, alert: dict[str, Any]) -> None:
        logger.log(_LEVELS.get(alert["severity"], logging.WARNING), "ALERT %s", alert["message"])


class WebhookChannel(AlertChannel):
    """POSTs the alert as JSON to ``url``; any non-2xx answer or network error is a failure."""

    name = "webhook"

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def send(self, alert: dict[str, Any]) -> None:
        body = json.dumps(alert, default=str).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "loopml-alerts"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ChannelError(
                f"The webhook {self.url} did not accept the alert: {exc}.",
                hint="Check alerts.webhook_url in loopml.yaml and that the receiver is up.",
            ) from exc
        if not 200 <= status < 300:
            raise ChannelError(f"The webhook {self.url} answered HTTP {status}.")


class EmailChannel(AlertChannel):
    """Sends the alert as a plain-text email over SMTP (optionally STARTTLS and login)."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        to: Sequence[str],
        *,
        starttls: bool = False,
        username: str | None = None,
        password_env: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender, self.to = host, port, sender, list(to)
        self.starttls, self.username, self.password_env = starttls, username, password_env
        self.timeout = timeout

    def message(self, alert: dict[str, Any]) -> EmailMessage:
        """The email for ``alert``."""
        mail = EmailMessage()
        mail["Subject"] = f"[loopml {alert['severity']}] {alert['message']}"
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.to)
        lines = [alert["message"], ""]
        lines += [f"{key}: {alert.get(key)}" for key in ("project", "model", "rule", "metric")]
        lines += [f"{key}: {alert.get(key)}" for key in ("value", "threshold", "time")]
        mail.set_content("\n".join(lines) + "\n")
        return mail

    def send(self, alert: dict[str, Any]) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, os.environ.get(self.password_env or "", ""))
                smtp.send_message(self.message(alert))
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(
                f"The alert email could not be sent through {self.host}:{self.port}: {exc}.",
                hint="Check alerts.email in loopml.yaml and that the SMTP server is up.",
            ) from exc

"""Outgoing email over SMTP, configured by BANKFLOW_SMTP_* environment variables."""
from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage


@dataclass(frozen=True)
class SmtpMailer:
    """Outgoing email over SMTP, configured by BANKFLOW_SMTP_* environment variables."""

    host: str
    port: int = 25
    sender: str = "bankflow@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def mailer_from_env() -> SmtpMailer | None:
    """A mailer when BANKFLOW_SMTP_HOST is set (also _PORT, _FROM, _USER, _PASSWORD, _STARTTLS)."""
    host = os.environ.get("BANKFLOW_SMTP_HOST")
    if not host:
        return None
    return SmtpMailer(host=host, port=int(os.environ.get("BANKFLOW_SMTP_PORT", 25)),
                      sender=os.environ.get("BANKFLOW_SMTP_FROM", "bankflow@localhost"),
                      username=os.environ.get("BANKFLOW_SMTP_USER"),
                      password=os.environ.get("BANKFLOW_SMTP_PASSWORD"),
                      starttls=os.environ.get("BANKFLOW_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"))

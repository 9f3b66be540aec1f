"""A real SMTP server in the test process (aiosmtpd) on a free port, for the e-mail tests
and the mail bench: it keeps every message it accepts, and can refuse the first N."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from core.config import SmtpServer
from tests.e2e.push_harness import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: email.message.EmailMessage
    at: float  # time.monotonic() when accepted

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


@dataclass
class Inbox:
    """What the server accepted, in order; `refuse` RCPTs are answered 451 first."""

    refuse: int = 0
    refused: int = 0
    got: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if self.refused < self.refuse:
                self.refused += 1
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.got.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg, time.monotonic()))
        return "250 Message accepted for delivery"

    def messages(self) -> list[Received]:
        with self.lock:
            return list(self.got)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.messages() if address in r.recipients]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"the SMTP server got {len(self.messages())} messages, not {count}, in {timeout} s")


class SmtpHarness:
    """Start with `with SmtpHarness() as (inbox, server):`; `server` is the SmtpServer to send to."""

    def __init__(self, refuse: int = 0, login: tuple[str, str] | None = None):
        self.inbox = Inbox(refuse=refuse)
        self.port = free_port()
        self.login = login
        auth = {}
        if login:  # AUTH over plain TCP on loopback (STARTTLS would need a certificate the client trusts)
            auth = dict(auth_required=True, auth_require_tls=False, authenticator=self._check)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **auth)

    def _check(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == self.login
        return AuthResult(success=ok)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> tuple[Inbox, SmtpServer]:
        self.controller.start()
        return self.inbox, SmtpServer(host="127.0.0.1", port=self.port, timeout=10)

    def __exit__(self, *exc) -> None:
        self.controller.stop()

"""Messages as the recipient gets them, and sending them with the standard library's smtplib.

`build` makes an `email.message.EmailMessage` (SMTP policy): the headers are set through
`email.headerregistry`, from values `render.header_text` has already cleared of CR/LF, so
no header can be injected; an address that is not one raises `BadAddress` for that one
message. `Connection` sends a batch over one SMTP session (STARTTLS or TLS and login as
SMTP_URL says) and tells apart what to retry (4xx, the server away) from what never will
work (5xx for that recipient).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from core.config import SmtpServer
from core.mail.messages import Claimed
from core.mail.render import header_text


_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")


class BadAddress(ValueError):
    """The recipient (or SMTP_FROM) is not an e-mail address: this message can never go."""


class Temporary(Exception):
    """Try this message again later (4xx, or the server could not be reached)."""


class Permanent(Exception):
    """This message will never be accepted (5xx for it)."""


class ServerAway(Temporary):
    """The SMTP server cannot be reached or dropped us: the whole batch waits."""


def address(addr_spec: str, name: str | None = None) -> Address:
    spec = (addr_spec or "").strip()
    if not spec or any(c in spec for c in "\r\n\t <>,;\"") or spec.count("@") != 1:
        raise BadAddress(f"{header_text(spec, 80)!r} is not a valid e-mail address")
    user, _, domain = spec.partition("@")
    if not user or not _DOMAIN.fullmatch(domain):
        raise BadAddress(f"{header_text(spec, 80)!r} is not a valid e-mail address")
    try:
        return Address(display_name=header_text(name or "", 100), username=user, domain=domain)
    except (ValueError, IndexError) as exc:
        raise BadAddress(f"{header_text(spec, 80)!r} is not a valid e-mail address ({exc})") from None


def sender_address(smtp_from: str) -> Address:
    name, spec = parseaddr(smtp_from)
    return address(spec, name)


def build(m: Claimed, smtp_from: str, sent_at: dt.datetime) -> EmailMessage:
    """The message as sent: plain text and HTML alternatives, the .ics attached."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender_address(smtp_from)
    msg["To"] = address(m.recipient, m.name)
    msg["Subject"] = header_text(m.subject, 250)
    msg["Date"] = format_datetime(sent_at.replace(tzinfo=dt.timezone.utc))
    msg["Message-ID"] = m.message_id
    msg.set_content(m.text_body)
    msg.add_alternative(m.html_body, subtype="html")
    if m.ics:
        msg.add_attachment(m.ics.encode("utf-8"), maintype="text", subtype="calendar", filename="course.ics",
                           params={"method": "PUBLISH"} if "METHOD:PUBLISH" in m.ics else {"method": "CANCEL"})
    return msg


class Connection:
    """One SMTP session for a batch of messages (a context manager)."""

    def __init__(self, server: SmtpServer):
        self.server = server
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Connection:
        s = self.server
        try:
            if s.tls:
                self.smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                self.smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            self.smtp.ehlo()
            if s.starttls:
                self.smtp.starttls(context=ssl.create_default_context())
                self.smtp.ehlo()
            if s.user:
                self.smtp.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            self._close()
            raise ServerAway(f"the SMTP server refused the login in SMTP_URL ({exc.smtp_code})") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._close()
            raise ServerAway(f"cannot reach the SMTP server {s.host}:{s.port}: {_why(exc)}") from exc
        return self

    def __exit__(self, *exc) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._close()

    def _close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def send(self, msg: EmailMessage, envelope_from: str, recipient: str) -> None:
        """Send one message; raises Permanent, Temporary or ServerAway."""
        if self.smtp is None:
            raise ServerAway("the SMTP connection was closed")
        try:
            self.smtp.send_message(msg, from_addr=envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, f"the server refused {recipient}: {code} {_text(text)}") from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused
            raise _by_code(exc.smtp_code, f"the server answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._close()
            raise ServerAway(f"the SMTP server went away: {_why(exc)}") from exc


def _by_code(code: int, text: str) -> Exception:
    return Permanent(text) if 500 <= code < 600 else Temporary(text)


def _text(raw) -> str:
    return header_text(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw), 300)


def _why(exc: BaseException) -> str:
    return header_text(str(exc) or type(exc).__name__, 200)

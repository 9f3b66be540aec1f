"""Booking e-mails, from the event outbox to an SMTP server (or kept, for the Outbox page).

    events (core.changes) --consumer "mail"--> messages rows --sender--> SMTP
                              (builders.py,      (messages.py)   (sender.py, smtp.py)
                               render.py)

- `messages.py`: the registry of builders (event kind -> who is told what), the messages
  table (queue, claim, record, resend) and what the pages read.
- `bookings.py`: the builders for booking events; `reminders.py`: reminders found by date.
- `render.py` + `templates/`: Jinja2, HTML autoescaped and plain text; en-GB dates at the
  sites; `ics.py`: the session's .ics attachment.
- `smtp.py`: one EmailMessage per row (no CR/LF ever reaches a header), sent with smtplib.
- `sender.py`: the loop, in every app process as a daemon thread and as
  `python -m core send-mail [--forever]`.
- `details.py`: what the e-mails say about sites and courses (admins edit it).
"""

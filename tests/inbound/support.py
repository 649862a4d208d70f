"""A sent invitation to answer, and the answers as the mail programs write them.

The calendar replies follow the shapes the clients produce (RFC 6047 iMIP): Outlook
inline in ``multipart/alternative``, Gmail inline plus ``invite.ics``, Apple Calendar
attached only, Thunderbird inline ``text/calendar`` plus ``application/ics``. The
bounces follow Postfix (RFC 3464), Exchange (RFC 3464 with its own texts) and Gmail.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlmodel import select

from roundtable.calendar.parse import parse_calendar
from roundtable.db import read_session
from roundtable.delivery.deliver import deliver_batch
from roundtable.invitations.invitee_import import import_invitee_file
from roundtable.mail.model import Message, MessageStatus
from roundtable.mail.transports import open_transport
from roundtable.types import utcnow
from roundtable.workflows.event_changes import apply_event_file
from roundtable.workflows.sending import send_invitations
from tests.events.event_files import sample

SLUG = "inter-ethnic-city"
AUTHSERV = "mx.roundtable.test"
DATES = {
    "starts": '"2027-09-23T13:15:00"',
    "ends": '"2027-09-23T15:00:00"',
    "rsvp_deadline": '"2027-09-20T18:00:00"',
}
INVITEES = (
    b"email,honorific,first_name,last_name,language\n"
    b"amina@example.org,H.E. Ms.,Amina,Haddad,en\n"
    b"jean@example.org,Mr.,Jean,Dupont,fr\n"
    b"li@example.org,Dr.,Wei,Li,en\n"
)


@dataclass(frozen=True)
class Sent:
    """An invitation as it went out: what a reply refers to."""

    address: str
    uid: str
    sequence: int
    organizer: str
    message_id: str


def send_the_invitations(
    tmp_path: Path, invitees: bytes = INVITEES, **fields: str
) -> dict[str, Sent]:
    """Load the example event (with ``fields`` as TOML values), import invitees, send
    through the file outbox; by address."""
    event_file, outbox = tmp_path / "event.toml", tmp_path / "outbox"
    event_file.write_text(sample(**(DATES | fields)), encoding="utf-8")
    apply_event_file(event_file, now=utcnow())
    import_invitee_file(invitees, SLUG, skip_invalid=False)
    send_invitations(SLUG, now=utcnow())
    with read_session() as session:
        due = session.exec(select(Message.id).where(Message.status == MessageStatus.QUEUED)).all()
    with open_transport(f"file://{outbox}") as transport:
        deliver_batch([int(i) for i in due if i is not None], transport)
    sent: dict[str, Sent] = {}
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        invite = parse_calendar(part.get_payload(decode=True))
        address = invite.attendees[0].email
        sent[address] = Sent(
            address, invite.uid, invite.sequence, invite.organizer_email, str(message["Message-ID"])
        )
    return sent


def vcalendar(
    sent: Sent,
    partstat: str,
    *,
    prodid: str,
    attendee: str | None = None,
    method: str = "REPLY",
    extra: str = "",
    attendee_params: str = "",
) -> str:
    """A REPLY as the clients write it: one VEVENT, one ATTENDEE with the PARTSTAT."""
    who = attendee or sent.address
    return (
        "BEGIN:VCALENDAR\r\n"
        f"PRODID:{prodid}\r\nVERSION:2.0\r\nMETHOD:{method}\r\n"
        "BEGIN:VEVENT\r\n"
        f"UID:{sent.uid}\r\nSEQUENCE:{sent.sequence}\r\nDTSTAMP:20270901T120000Z\r\n"
        "DTSTART:20270923T171500Z\r\nDTEND:20270923T190000Z\r\n"
        f"ORGANIZER:mailto:{sent.organizer}\r\n"
        f"ATTENDEE;PARTSTAT={partstat}{attendee_params};CN=Someone:mailto:{who}\r\n"
        f"{extra}"
        "SUMMARY:The Inter-Ethnic City\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def _headers(
    message: EmailMessage, sender: str, to: str, subject: str, auth: str | None, answers: str
) -> None:
    if auth is not None:
        message["Authentication-Results"] = auth
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "example.org")
    if answers:
        message["In-Reply-To"] = answers
        message["References"] = answers


def passing(sender: str) -> str:
    """What our receiving server writes for a message that passed DMARC."""
    domain = sender.rpartition("@")[2]
    return (
        f"{AUTHSERV}; dkim=pass header.d={domain} header.s=s1; spf=pass "
        f"smtp.mailfrom={domain}; dmarc=pass (p=REJECT) header.from={domain}"
    )


def calendar_reply(
    sent: Sent,
    partstat: str,
    shape: str,
    *,
    sender: str | None = None,
    auth: str | None = "pass",
    attendee: str | None = None,
    extra: str = "",
    attendee_params: str = "",
    method: str = "REPLY",
) -> bytes:
    """A calendar reply in the shape of ``shape`` (outlook, gmail, apple, thunderbird)."""
    sender = sender or sent.address
    word = {"ACCEPTED": "Accepted", "DECLINED": "Declined", "TENTATIVE": "Tentative"}.get(
        partstat, "Reply"
    )
    prodid = {
        "outlook": "Microsoft Exchange Server 2010",
        "gmail": "-//Google Inc//Google Calendar 70.9054//EN",
        "apple": "-//Apple Inc.//macOS 14.5//EN",
        "thunderbird": "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
    }[shape]
    ics = vcalendar(
        sent,
        partstat,
        prodid=prodid,
        attendee=attendee,
        extra=extra,
        attendee_params=attendee_params,
        method=method,
    )
    message = EmailMessage()
    _headers(
        message,
        sender,
        sent.organizer,
        f"{word}: The Inter-Ethnic City",
        passing(sender) if auth == "pass" else auth,
        sent.message_id,
    )
    text = f"{sender} has {word.lower()} this invitation."
    if shape == "outlook":
        message.set_content(text)
        message.add_alternative(f"<p>{text}</p>", subtype="html")
        message.add_alternative(
            ics.encode(),
            maintype="text",
            subtype="calendar",
            params={"method": method},
            cte="base64",
        )
    elif shape == "gmail":
        message.set_content(text)
        message.add_alternative(f"<p>{text}</p>", subtype="html")
        message.add_alternative(
            ics.encode(), maintype="text", subtype="calendar", params={"method": method}
        )
        message.make_mixed()
        message.add_attachment(
            ics.encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    elif shape == "apple":
        message.set_content(text)
        message.add_attachment(
            ics.encode(),
            maintype="text",
            subtype="calendar",
            params={"method": method},
            filename="iCal-20270901-120000.ics",
            cte="quoted-printable",
        )
    else:  # thunderbird
        message.set_content(text)
        message.make_mixed()
        inline = EmailMessage()
        inline.set_content(ics, subtype="calendar", params={"method": method}, cte="8bit")
        message.attach(inline)
        message.add_attachment(
            ics.encode(), maintype="application", subtype="ics", filename="invite.ics"
        )
    return message.as_bytes(policy=SMTP)


def _report(
    sender: str,
    subject: str,
    to: str,
    text: str,
    status_fields: str,
    returned: str,
    returned_type: str = "text/rfc822-headers",
) -> bytes:
    """An RFC 3464 report as MTAs write it: explanation, status fields, the returned part."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(utcnow())}\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.org')}\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R1"\r\n\r\n'
        "--R1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"{text}\r\n"
        "--R1\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"{status_fields}\r\n"
        f"--R1\r\nContent-Type: {returned_type}\r\n\r\n"
        f"{returned}\r\n"
        "--R1--\r\n"
    ).encode()


def postfix_bounce(sent: Sent, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A Postfix RFC 3464 report with the returned message's headers."""
    return _report(
        "MAILER-DAEMON@mx.example.org (Mail Delivery System)",
        "Undelivered Mail Returned to Sender",
        sent.organizer,
        "This is the mail system at host mx.example.org.\r\n\r\nI'm sorry to have to "
        "inform you that your message could not\r\nbe delivered to one or more recipients.",
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {sent.address}\r\n"
        f"Original-Recipient: rfc822;{sent.address}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} <{sent.address}>: Recipient address rejected: "
        "User unknown in virtual mailbox table\r\n",
        f"From: {sent.organizer}\r\nTo: {sent.address}\r\nMessage-ID: {sent.message_id}\r\n"
        "Subject: Invitation\r\n",
    )


def gmail_bounce(sent: Sent, status: str = "5.2.2") -> bytes:
    """Gmail's "Delivery Status Notification (Failure)": a report with the whole message."""
    return _report(
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        sent.organizer,
        f"** Address not found **\r\n\r\nYour message wasn't delivered to {sent.address}.",
        "Reporting-MTA: dns; googlemail.com\r\n\r\n"
        f"Final-Recipient: rfc822; {sent.address}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 552-{status} The email account that you tried to reach is "
        "over quota.\r\n",
        f"From: {sent.organizer}\r\nTo: {sent.address}\r\nMessage-ID: {sent.message_id}\r\n"
        "Subject: Invitation\r\nContent-Type: text/plain\r\n\r\nthe invitation\r\n",
        returned_type="message/rfc822",
    )


def exchange_bounce(sent: Sent) -> bytes:
    """An Exchange Online non-delivery report without a standard report part."""
    message = EmailMessage()
    _headers(
        message,
        "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.org>",
        sent.organizer,
        "Undeliverable: Invitation: The Inter-Ethnic City",
        None,
        "",
    )
    message["X-MS-Exchange-Message-Is-Ndr"] = ""
    message.set_content(
        "Your message to " + sent.address + " couldn't be delivered.\n"
        "amina wasn't found at example.org.\n\n"
        "Diagnostic information for administrators:\n"
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
        "Recipient not found by SMTP address lookup'\n\n"
        "Original message headers:\n\n"
        f"Message-ID: {sent.message_id}\nSubject: Invitation\n"
    )
    return message.as_bytes(policy=SMTP)


def auto_reply(sent: Sent, text: str, headers: dict[str, str] | None = None) -> bytes:
    message = EmailMessage()
    _headers(
        message, sent.address, sent.organizer, "Automatic reply: Invitation", None, sent.message_id
    )
    for name, value in (headers or {"Auto-Submitted": "auto-replied"}).items():
        message[name] = value
    message.set_content(text)
    return message.as_bytes(policy=SMTP)


def human_mail(sent: Sent, text: str) -> bytes:
    message = EmailMessage()
    _headers(message, sent.address, sent.organizer, "Re: Invitation", None, sent.message_id)
    message.set_content(text + "\n\n> On Monday you wrote:\n> Invitation\n")
    return message.as_bytes(policy=SMTP)

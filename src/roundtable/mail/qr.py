"""The check-in QR code of a confirmation, as a PNG the HTML part shows inline."""

from __future__ import annotations

import io

import segno

#: the Content-ID the confirmation's HTML names (``cid:checkin-qr``)
CHECKIN_QR_CID = "checkin-qr"


def qr_png(text: str) -> bytes:
    """``text`` as a QR code PNG, large enough for a phone held at arm's length.

    Error correction level M survives a scuffed screen; the quiet zone of four
    modules is what scanners need to find the code.
    """
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()

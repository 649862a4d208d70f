"""The delivered invitation read by SpamAssassin: no rule for text hidden by colour.

A preheader (the inbox's preview line) hidden with a font colour close to the
background scores as hidden text (``HTML_FONT_LOW_CONTRAST``); the layout hides it by
size alone (docs/architecture.md, "Mail layout"). SpamAssassin runs here locally
(``-L``: no network tests) on each message as the SMTP server received it.
"""

from __future__ import annotations

import email
import re
import shutil
import subprocess
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.mail.delivered import delivered_invitations

#: what SpamAssassin says about text a reader cannot see
HIDDEN_TEXT_RULES = ("HTML_FONT_LOW_CONTRAST", "HTML_FONT_INVISIBLE", "HTML_FONT_TINY")


def rules_hit(message: bytes) -> set[str]:
    """The rule names of the X-Spam-Status header SpamAssassin adds in test mode."""
    spamassassin = shutil.which("spamassassin")
    if spamassassin is None:
        pytest.fail("spamassassin is missing: install it (`make test` does)")
    checked = subprocess.run(
        [spamassassin, "-t", "-L"], input=message, capture_output=True, check=False, timeout=120
    )
    # -t exits with 1 for spam; anything else above that is a failure of the tool
    assert checked.returncode in (0, 1), checked.stderr.decode(errors="replace")
    status = email.message_from_bytes(checked.stdout, policy=default)["X-Spam-Status"]
    assert status is not None, "SpamAssassin added no X-Spam-Status"
    # the header is folded, also between rule names: "tests=A,\n\tB,C autolearn=…"
    unfolded = re.sub(r",\s+", ",", " ".join(str(status).split()))
    tests = unfolded.split("tests=", 1)[1].split(" ", 1)[0]
    return {name for name in tests.split(",") if name and name != "none"}


def test_no_invitation_hides_text_from_a_spam_filter(sqlite_engine: Engine, tmp_path: Path) -> None:
    for language, message in delivered_invitations(tmp_path).items():
        hit = rules_hit(bytes(message))
        assert "HTML_MESSAGE" in hit, f"{language}: SpamAssassin did not read the HTML part"
        hidden = hit.intersection(HIDDEN_TEXT_RULES)
        assert not hidden, f"the {language} invitation hides text: {sorted(hidden)}"

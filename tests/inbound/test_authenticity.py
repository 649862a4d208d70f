"""Which Authentication-Results count: our server's topmost header, for the From domain."""

from __future__ import annotations

import pytest

from roundtable.inbound.authenticity import auth_results, authentic

OURS = "mx.roundtable.test"


@pytest.mark.parametrize(
    ("headers", "sender", "believed"),
    [
        ([f"{OURS}; dmarc=pass (p=reject) header.from=example.org"], "a@example.org", True),
        ([f"{OURS} 1; dkim=pass (2048-bit key) header.d=example.org"], "a@example.org", True),
        ([f"{OURS}; dkim=pass header.d=other.test; dmarc=none"], "a@example.org", False),
        ([f"{OURS}; dmarc=pass header.from=other.test"], "a@example.org", False),
        ([f"{OURS}; dmarc=fail header.from=example.org"], "a@example.org", False),
        (["mx.google.com; dmarc=pass header.from=example.org"], "a@example.org", False),
        # Ours on top says fail; a sender's forgery further down cannot overrule it.
        (
            [f"{OURS}; dmarc=fail header.from=example.org", f"{OURS}; dmarc=pass"],
            "a@example.org",
            False,
        ),
        ([f"{OURS.upper()};\r\n  DMARC=PASS header.from=Example.ORG"], "a@example.org", True),
        ([], "a@example.org", False),
        (["garbage without structure"], "a@example.org", False),
        ([f"{OURS}; dmarc=pass header.from=example.org"], "", False),
    ],
)
def test_only_our_servers_verdict_for_the_from_domain_counts(
    headers: list[str], sender: str, believed: bool
) -> None:
    assert authentic(auth_results(headers), OURS, sender) is believed


def test_without_an_authserv_id_nothing_is_believed() -> None:
    headers = [f"{OURS}; dmarc=pass header.from=example.org"]
    assert authentic(auth_results(headers), None, "a@example.org") is False

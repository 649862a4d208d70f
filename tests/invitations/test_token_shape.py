"""The shape check a link's token passes before the database is asked about it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from roundtable.invitations.tokens import derive_token, looks_like_token, new_salt

_URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_every_token_the_service_makes_looks_like_one() -> None:
    for invitation_id in range(1, 200):
        assert looks_like_token(derive_token("k" * 40, invitation_id, new_salt()))


@given(st.text(max_size=50) | st.text(alphabet=_URL_SAFE + "=+/.\n\u0660é", max_size=45))
def test_a_token_is_exactly_43_url_safe_ascii_characters(candidate: str) -> None:
    expected = len(candidate) == 43 and all(c in _URL_SAFE for c in candidate)
    assert looks_like_token(candidate) == expected


def test_a_line_break_after_a_token_is_not_a_token() -> None:
    token = "a" * 43
    assert looks_like_token(token)
    assert not looks_like_token(token + "\n")
    assert not looks_like_token("\u0661" * 43)  # Arabic-Indic digits are digits, not ASCII

"""A cache's key is the same whoever computes it (caches/framed.py `digest_of`): marshal's
back-reference flags follow an object's refcount, so a key digested from the default encoding
differed for the same value held once or twice (a cache written by one command, missed by the
next)."""

from __future__ import annotations

from pipectl.caches import framed
from pipectl.caches.deals import _key


def test_the_same_value_has_one_key_whatever_holds_it() -> None:
    held = "".join(["pros", "pecting"])
    others = [held]
    assert framed.digest_of(("".join(["pros", "pecting"]), 1)) == framed.digest_of((held, 1))
    assert framed.digest_of({"a": ["".join(["pros", "pecting"])]}) == framed.digest_of(
        {"a": others}
    )
    assert _key("".join(["pros", "pecting"])) == _key(held)

"""``masked_url``: no password of a store URL survives it, and nothing else changes."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from conversation.cli._secrets import masked_url

secrets = st.text(st.characters(codec="utf-8"), min_size=4)
keys = st.sampled_from(["password", "sslpassword", "PASSWORD", "SslPassword"])


@given(password=secrets, key=keys)
def test_a_password_in_the_userinfo_or_the_query_is_masked(password: str, key: str) -> None:
    quoted = quote("Z!" + password, safe="")  # "Z%21": found nowhere else in the URLs
    for url in (
        f"postgresql://me:{quoted}@db.local:5432/chats?sslmode=require",
        f"postgresql://me@db.local/chats?sslmode=require&{key}={quoted}&application_name=x",
        f"postgres://me:{quoted}@db.local/chats?{key}={quoted}",
    ):
        shown = masked_url(url)
        assert quoted not in shown
        assert "***" in shown
        assert shown.startswith(url.partition(quoted)[0])  # the rest, up to it, as written
        assert "sslmode=require" in shown or "sslmode" not in url


def test_a_password_with_url_delimiters_typed_raw_is_masked_as_libpq_reads_it() -> None:
    """libpq takes everything before an "@" (met ahead of any "/") as the userinfo, so
    a "#" or "?" typed in a password is still part of it."""
    assert masked_url("postgresql://me:pa#ss?w@host/db") == "postgresql://me:***@host/db"
    assert masked_url("postgresql://host/db?password=a#b&x=1") == (
        "postgresql://host/db?password=***&x=1"
    )


@given(
    path=st.from_regex(r"/[a-z0-9_./-]{0,20}", fullmatch=True),
    query=st.from_regex(
        r"(host=/tmp|sslmode=require|user=me|port=5432)(&user=me)?", fullmatch=True
    ),
)
def test_a_url_without_a_password_is_kept_as_typed(path: str, query: str) -> None:
    for url in (
        f"postgresql://{path}?{query}",
        f"postgresql://me@db.local{path}",
        f"postgresql://db.local:5432{path}?{query}",
        f"sqlite://{path}",
    ):
        assert masked_url(url) == url
    assert masked_url("postgresql:///chats?host=/tmp") == "postgresql:///chats?host=/tmp"


@given(st.text().filter(lambda text: "://" not in text))
def test_a_path_is_kept_as_it_is(path: str) -> None:
    assert masked_url(path) == path

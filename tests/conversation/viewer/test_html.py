"""The HTML builder: text and attribute values escaped by default, Markup kept as it is."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from conversation.viewer._html import Markup, esc, join, tag, url
from tests.conversation.viewer.parsing import parse


@given(st.text(), st.text())
def test_any_text_and_attribute_value_come_back_as_they_were(text: str, value: str) -> None:
    parsed = parse(tag("p", text, title=value))
    assert parsed.tags == [("p", [("title", value)])]
    assert "".join(parsed.text) == text


def test_markup_is_kept_and_text_is_escaped() -> None:
    inner = tag("b", "<x>")
    assert tag("p", inner, "&", None, 3, ["<", Markup("<br>")]) == (
        "<p><b>&lt;x&gt;</b>&amp;3&lt;<br></p>"
    )
    assert esc(None) == ""
    assert join(["a", Markup("<i>"), "<"]) == "a<i>&lt;"


def test_attributes_by_their_python_names() -> None:
    assert tag("input", type="radio", checked=True, hidden=False, value=None) == (
        '<input type="radio" checked>'
    )
    assert tag("div", class_="x", data_lang='"q"', aria_label="y") == (
        '<div class="x" data-lang="&quot;q&quot;" aria-label="y"></div>'
    )


@given(st.lists(st.text(min_size=1), min_size=1, max_size=3))
def test_url_segments_are_percent_encoded_whole(segments: list[str]) -> None:
    path = url(*segments)
    assert [unquote(part) for part in path[1:].split("/")] == segments
    assert not set(path) & set("<>\"' ?#")


def test_url_query() -> None:
    assert url("compare", a="x y", b="", c="&") == "/compare?a=x+y&c=%26"

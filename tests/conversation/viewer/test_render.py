"""Turns and blocks as HTML: every block safe, text kept as text, code, images, badges."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import (
    Base64Source,
    Block,
    Conversation,
    FileSource,
    Image,
    Provenance,
    RedactedThinking,
    ReplyInfo,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
    Turn,
    URLSource,
    Usage,
)
from conversation.viewer._render import render_block, render_text, render_turn, turn_badges
from tests.conversation.viewer.data import picture
from tests.conversation.viewer.parsing import assert_safe, parse
from tests.strategies import block_objects, stored_conversations

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "\"'><svg onload=alert(1)>",
    "javascript:alert(1)",
    "&lt;b&gt; &amp; &#60;",
    "</pre></code></div>",
    "<!--",
    "]]>",
]
_prose = st.lists(st.text(max_size=20) | st.sampled_from(HOSTILE), max_size=6).map("".join)


@given(block_objects())
def test_every_block_renders_as_safe_html(block: Block) -> None:
    assert_safe(render_block(block))


@given(stored_conversations())
def test_every_turn_of_any_stored_conversation_renders_as_safe_html(c: Conversation) -> None:
    for number, turn in enumerate(c, 1):
        markup = render_turn(turn, number)
        parsed = assert_safe(markup)
        assert [tag for tag, _ in parsed.tags].count("article") == 1
        assert f'id="turn-{number}"' in markup


@given(_prose.filter(lambda text: "`" not in text and "~~~" not in text))
def test_text_with_markup_in_it_comes_back_as_the_same_text(text: str) -> None:
    parsed = assert_safe(render_text(text))
    shown = re.sub("[\ue000-\uf8ff]", "", text)  # private-use characters are left out
    assert " ".join(parsed.text).split() == shown.split()


@given(_prose)
def test_text_with_fences_anywhere_stays_safe(text: str) -> None:
    assert_safe(render_text(text.replace("1", "\n```\n")))


def test_fenced_code_is_a_pre_code_block_with_its_language() -> None:
    markup = render_text("Here:\n\n```python\nif a < b:\n    pass\n```\nThen `x` is set.")
    assert '<pre class="code" data-lang="python"><span class="lang">python</span><code>' in markup
    assert "<code>if a &lt; b:\n    pass</code></pre>" in markup
    assert "<p>Then <code>x</code> is set.</p>" in markup
    assert markup.startswith('<div class="text"><p>Here:</p>')


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("```\nopen to the end\nstill code", "open to the end\nstill code"),
        ("~~~sh\nls\n~~~", "ls"),
        ("````\n```\ninner\n```\n````", "```\ninner\n```"),  # a longer fence holds a shorter
        ("  \ue203```java\nint a;\n  ```\ue204", "int a;"),  # ChatGPT's citation marks
    ],
)
def test_fences_as_people_write_them(text: str, code: str) -> None:
    markup = render_text(text)
    parsed = parse(markup)
    inside = [t for t in parsed.text if t not in ("java", "sh")]
    assert inside == [code]


def test_private_use_characters_no_font_draws_are_left_out() -> None:
    assert render_text("\ue203see this\ue204") == '<div class="text"><p>see this</p></div>'


def test_a_fence_opening_mid_line_is_not_a_fence() -> None:
    markup = render_text("say ```not code``` here")
    assert "<pre" not in markup


PNG = base64.b64encode(picture(4, 4)).decode()


def test_a_base64_image_of_a_safe_type_is_drawn_from_a_data_url() -> None:
    markup = render_block(Image(Base64Source("image/png", PNG)))
    assert f'<img src="data:image/png;base64,{PNG}" alt="image (image/png)">' in markup


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        ("image/svg+xml", base64.b64encode(b"<svg onload=alert(1)/>").decode()),
        ("text/html", base64.b64encode(b"<script>alert(1)</script>").decode()),
        ("image/png", 'AAAA" onerror="alert(1)'),  # not base64: never put in a URL
    ],
)
def test_an_image_that_could_carry_script_is_not_drawn(media_type: str, data: str) -> None:
    markup = render_block(Image(Base64Source(media_type, data)))
    assert "<img" not in markup
    assert "not shown" in markup
    assert_safe(markup)


def test_url_images_are_links_only_when_http() -> None:
    good = render_block(Image(URLSource("https://example.com/a.png?x=1&y=<2>")))
    assert '<a href="https://example.com/a.png?x=1&amp;y=&lt;2&gt;"' in good
    assert 'rel="noopener noreferrer nofollow"' in good
    assert "<img" not in good  # the page never fetches from another site
    for address in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>", "//evil"):
        shown = render_block(Image(URLSource(address)))
        assert "<a " not in shown
        assert_safe(shown)
    assert "uploaded file file_123" in render_block(Image(FileSource("file_123")))


def test_tool_calls_results_and_thinking() -> None:
    call = render_block(ToolUse("toolu_1", "search", {"q": "<b>"}))
    assert "tool call <strong>search</strong>" in call
    assert "&quot;q&quot;: &quot;&lt;b&gt;&quot;" in call
    result = render_block(ToolResult("toolu_1", "failed", is_error=True))
    assert 'class="block tool-result error"' in result
    assert "tool result (error)" in result
    nested = render_block(ToolResult("toolu_1", (Text("see `x`"),)))
    assert "<code>x</code>" in nested
    thinking = render_block(Thinking("hmm <i>", "sig"))
    assert thinking.startswith('<details class="block thinking"><summary>thinking (7 characters)')
    assert " open" not in thinking.split(">")[0]
    redacted = render_block(RedactedThinking("abcd"))
    assert "redacted thinking" in redacted
    assert "abcd" not in redacted


def test_badges_say_who_wrote_a_turn() -> None:
    info = ReplyInfo(model="claude-x", stop_reason="max_tokens", usage=Usage(1000, 20, 0, 500))
    written = Turn("assistant", "hi", Provenance((info,)))
    badges = turn_badges(written)
    assert '<span class="badge model">claude-x</span>' in badges
    assert "1,500 in · 20 out · 500 cached" in badges
    assert "max_tokens" in badges
    assert "synthetic" not in badges
    assert "synthetic" in turn_badges(Turn("assistant", "by hand"))
    assert 'class="turn assistant synthetic"' in render_turn(Turn("assistant", "x"), 1)
    assert turn_badges(Turn("user", "hi")) == ""
    imported = turn_badges(Turn("assistant", "hi", Provenance((ReplyInfo(model="gpt-4o"),))))
    assert imported == '<span class="badges"><span class="badge model">gpt-4o</span></span>'

    two = Turn("assistant", "hi", Provenance((info, info), interrupted=True))
    assert "2 replies" in turn_badges(two)
    assert "interrupted" in turn_badges(two)

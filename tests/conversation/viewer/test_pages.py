"""The viewer's pages in a real browser: Debian's Chromium, headless, over a real server.

Each test opens pages of ``conversation serve`` running over the sample
store (data.py), checks the DOM, and saves a screenshot in its tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from tests.conversation.viewer.conftest import Tab
from tests.conversation.viewer.data import CODE, HOSTILE, HOSTILE_TITLE, IMG, SCRIPT, Sample


def _texts(tab: Tab, selector: str) -> list[str]:
    return [text.strip() for text in tab.page.locator(selector).all_text_contents()]


def test_the_list_shows_every_dialogue_with_its_title_and_names(
    tab: Tab, sample: Sample, tmp_path: Path
) -> None:
    page = tab.open("/")
    tab.shot(tmp_path, "list")
    titles = _texts(tab, "li.dialogue .title")
    assert sorted(titles) == sorted(
        [
            "Plan a trip to Lisbon",  # no app title: the first prompt
            "What is in this picture? And write me a greeting function.",
            HOSTILE_TITLE,  # the app's title, from the import metadata
            "Sourdough starter",
        ]
    )
    assert "trip" in _texts(tab, "li.dialogue .name")
    assert "claude/sourdough" in _texts(tab, "li.dialogue .name")
    lisbon = page.locator("li.dialogue", has_text="Plan a trip to Lisbon")
    assert "3 branches" in lisbon.inner_text()
    lisbon.locator("a.title").click()
    assert page.url.endswith(f"/d/{sample.trip[:1].id}")


def test_search_finds_dialogues_by_title_and_by_text(
    tab: Tab, sample: Sample, tmp_path: Path
) -> None:
    page = tab.open("/")

    def search(query: str, scope: str) -> None:
        page.fill("form.search-full input[name=q]", query)
        page.check(f"input[name=in][value={scope}]")
        page.click("form.search-full button")
        tab.shot(tmp_path, f"search-{scope}")

    search("sourdough", "title")
    assert _texts(tab, "li.dialogue .title") == ["Sourdough starter"]
    assert _texts(tab, "li.dialogue .title mark") == ["Sourdough"]

    search("SINTRA", "text")
    assert _texts(tab, "li.dialogue .title") == ["Plan a trip to Lisbon"]
    assert _texts(tab, "li.dialogue .snippet mark") == ["Sintra"]
    snippet = page.locator("li.dialogue a.snippet")
    assert snippet.get_attribute("href", timeout=1000) == f"/c/{sample.trip.id}#turn-4"

    page.check("input[name=in][value=title]")  # the word is in a turn, not in a title
    page.click("form.search-full button")
    assert page.locator("li.dialogue").count() == 0
    assert "Nothing found." in page.inner_text("main")

    page.fill("header.top input[name=q]", "feed a starter")  # the box on every page
    page.press("header.top input[name=q]", "Enter")
    assert _texts(tab, "li.dialogue .title") == ["Sourdough starter"]


def test_a_dialogue_is_the_tree_of_its_branches(tab: Tab, sample: Sample, tmp_path: Path) -> None:
    page = tab.open(f"/d/{sample.trip[:1].id}")
    tab.shot(tmp_path, "tree")
    spans = _texts(tab, "ul.tree .node a.span")
    assert spans == ["turns 1–2", "turn 3", "turn 4", "turn 4", "turn 3"]
    links = page.locator("ul.tree .node a.span")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == [
        f"/c/{sample.trip[:2].id}",
        f"/c/{sample.trip[:3].id}",
        f"/c/{sample.trip.id}",
        f"/c/{sample.belem.id}",
        f"/c/{sample.week.id}",
    ]
    assert page.locator("ul.tree .badge.leaf").count() == 3
    # the main branch (the named one) is marked along its path
    assert _texts(tab, "ul.tree .node.mine a.span") == ["turns 1–2", "turn 3", "turn 4"]
    assert "trip" in _texts(tab, "ul.tree .node.mine .name")
    # nested: the two replies hang under turn 3, "No, a week" beside it
    assert page.locator("ul.tree > li > ul > li").count() == 2
    assert page.locator("ul.tree > li > ul > li > ul > li").count() == 2
    links.nth(4).click()
    assert page.url.endswith(f"/c/{sample.week.id}")
    assert _texts(tab, "article.turn .role") == ["user", "assistant", "user"]


def test_a_branch_reads_as_a_transcript(tab: Tab, sample: Sample, tmp_path: Path) -> None:
    page = tab.open("/c/rich")
    tab.shot(tmp_path, "transcript")
    turns = page.locator("article.turn")
    assert turns.count() == 4
    assert _texts(tab, "article.turn .role") == ["user", "assistant", "user", "assistant"]
    # code: a fenced block as <pre><code>, its language kept
    code = page.locator("article.turn pre.code code")
    assert code.count() == 1
    assert code.inner_text() == CODE
    assert page.locator("pre.code").get_attribute("data-lang") == "python"
    # the image is drawn from its base64 data
    image = page.locator("article.turn figure.image img")
    assert (image.get_attribute("src") or "").startswith("data:image/png;base64,iVBOR")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 64
    # the tool call and its result
    call = page.locator(".tool-use")
    assert "get_weather" in call.locator(".label").inner_text()
    assert '"city": "Lisbon"' in call.locator("pre").inner_text()
    assert "18°C, sunny" in page.locator(".tool-result").inner_text()
    assert "toolu_1" in page.locator(".tool-result .label").inner_text()
    # thinking is folded away until opened
    thinking = page.locator("details.thinking")
    assert thinking.get_attribute("open") is None
    assert not page.get_by_text("The picture is a gradient.").is_visible()
    thinking.locator("summary").click()
    assert page.get_by_text("The picture is a gradient.").is_visible()
    # who wrote each reply: the model and its tokens; the hand-written one is synthetic
    assert _texts(tab, "article.turn:nth-child(2) .badge") == [
        "claude-opus-4-1",
        "1,500 in · 320 out",
        "end_turn",
    ]
    last = turns.nth(3)
    assert "synthetic" in (last.get_attribute("class") or "").split()
    assert _texts(tab, "article.turn:nth-child(4) .badge") == ["synthetic"]
    assert page.locator("article.turn.user .badges").count() == 0
    # the page's script (allowed by the CSP: same origin) adds an "Expand all" button
    thinking.locator("summary").click()
    page.click("button.toggle-all")
    assert thinking.get_attribute("open") == ""
    assert tab.errors == []


def test_a_branch_with_a_system_prompt_and_a_fork_offers_a_comparison(
    tab: Tab, sample: Sample
) -> None:
    page = tab.open("/c/trip")
    assert "Be brief." in page.inner_text("details.system")
    assert _texts(tab, "article.turn:nth-child(4) .badge")[0] == "claude-sonnet-4-5"
    assert page.locator("select[name=a]").input_value() == sample.trip.id
    page.select_option("select[name=b]", sample.belem.id)
    page.click("form.compare-form button")
    assert f"a={sample.trip.id}" in page.url
    assert f"b={sample.belem.id}" in page.url
    assert page.locator(".side-by-side").count() == 1


def test_two_branches_side_by_side_from_their_fork(
    tab: Tab, sample: Sample, tmp_path: Path
) -> None:
    page = tab.open(f"/compare?a={sample.trip.id}&b={sample.belem.id}")
    tab.shot(tmp_path, "compare-replies")
    assert "turn 3" in page.inner_text("h2 >> nth=0")
    assert "Yes, three" in page.inner_text("article.turn.fork")
    earlier = page.locator("details.shared-earlier")
    assert earlier.get_attribute("open") is None
    assert earlier.locator("article.turn").count() == 2
    row = page.locator(".side-by-side .row")
    assert row.count() == 1
    assert _texts(tab, ".cell.left del.diff") == ["Alfama", "castle"]
    assert _texts(tab, ".cell.right ins.diff") == ["Belém", "tower"]
    assert page.locator(".cell.left ins, .cell.right del").count() == 0
    assert "Day 2: Sintra." in page.inner_text(".side-by-side .cell.left")  # same words, unmarked
    assert _texts(tab, ".cell.left .badge.model") == ["claude-sonnet-4-5"]
    assert _texts(tab, ".cell.right .badge.model") == ["claude-opus-4-1"]

    page = tab.open(f"/compare?a={sample.trip.id}&b={sample.week.id}")
    tab.shot(tmp_path, "compare-week")
    assert page.locator("details.shared-earlier article.turn").count() == 1
    rows = page.locator(".side-by-side .row")
    assert rows.count() == 2
    assert _texts(tab, ".row >> nth=1 >> .cell.left del.diff") == ["Yes", "three"]
    assert _texts(tab, ".row >> nth=1 >> .cell.right ins.diff") == ["No", "a week"]
    assert rows.nth(1).locator(".cell.right .turn.missing").inner_text() == "no turn here"
    assert rows.nth(1).locator(".cell.left article.turn.differs").count() == 1


def test_markup_from_a_person_or_a_model_is_shown_as_text_and_never_runs(
    tab: Tab, sample: Sample, tmp_path: Path
) -> None:
    pages = [
        f"/c/{quote('<i>hostile</i>', safe='')}",
        "/",
        f"/?q={quote('<script>')}&in=text",
        f"/d/{sample.hostile[:1].id}",
        f"/compare?a={sample.hostile.id}&b={sample.hostile[:1].id}",
    ]
    for number, path in enumerate(pages):
        page = tab.open(path)
        tab.shot(tmp_path, f"hostile-{number}")
        main = page.locator("main")
        # nothing written in the store became an element...
        assert main.locator("script, img, svg, i, b, iframe, [onerror], [onload]").count() == 0
        assert page.locator("a[href^='javascript' i]").count() == 0
        scripts = page.locator("script")
        assert scripts.count() == 1
        assert scripts.get_attribute("src") == "/static/viewer.js"
        # ...and no script of it ran
        assert page.evaluate("() => window.__pwned") is None
    page = tab.open(f"/c/{quote('<i>hostile</i>', safe='')}")
    assert page.inner_text("h1") == HOSTILE_TITLE
    assert page.locator("article.turn").nth(0).locator(".text").inner_text() == HOSTILE
    reply = page.locator("article.turn").nth(1)
    assert SCRIPT in reply.inner_text()
    assert reply.locator("pre.code code").inner_text() == IMG
    assert "<svg onload=alert(1)>" in reply.locator(".tool-use .label").inner_text()
    assert reply.locator(".badge.model").inner_text() == "<b>model</b>"
    assert _texts(tab, ".facts .name") == ["<i>hostile</i>"]
    # the javascript: URL is shown as text, the SVG image is not drawn at all
    assert "javascript:window.__pwned='url'" in page.inner_text(".unsafe-url")
    assert "image/svg+xml" in page.inner_text(".image.unsafe")
    assert tab.dialogs == []
    assert tab.errors == []
    assert not [line for line in tab.console if "PWNED" in line or "Security Policy" in line]

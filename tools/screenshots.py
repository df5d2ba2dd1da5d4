"""Screenshots of the web viewer's pages, to look at (not committed).

    .venv/bin/python tools/screenshots.py OUT_DIR [--exports DIR]

Builds a sample store in a temporary folder (the tests' sample store, plus
the ChatGPT and Claude.ai export samples of ``../shared/exports`` when that
folder is there), runs ``conversation serve`` over it, and writes one PNG
per page into OUT_DIR with Debian's Chromium (headless, via Playwright's
Python package; nothing downloads a browser). Needs the ``test`` extra.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tests' sample store and server helpers

from conversation.imports import import_into, read_chatgpt, read_claude  # noqa: E402
from conversation.store import SQLiteStore  # noqa: E402
from tests.conversation.viewer.data import build  # noqa: E402
from tests.conversation.viewer.serving import Server, chromium_missing, launch  # noqa: E402

EXPORTS = ROOT.parent / "shared" / "exports"


def import_exports(db: Path, exports: Path) -> list[str]:
    """Import every export sample under ``exports``; the names of those imported."""
    done = []
    with SQLiteStore(db) as store:
        for path in sorted((exports / "chatgpt").glob("*.json")):
            import_into(store, read_chatgpt(path))
            done.append(path.name)
        claude = exports / "claude"
        for path in sorted([*claude.glob("*.json"), *claude.glob("export-*/conversations.json")]):
            import_into(store, read_claude(path))
            done.append(str(path.relative_to(claude)))
    return done


def pages(db: Path) -> list[tuple[str, str]]:
    """(file name, path) of each page to photograph."""
    with SQLiteStore(db) as store:
        names = store.names()
        trip = store.load("trip")
        branches = [i for i in store.leaves(trip[:1].id) if i != trip.id]
        imported = next((n for n in sorted(names) if n.startswith("chatgpt/")), "claude/sourdough")
        forked = next(
            (
                n
                for n in sorted(names)
                if n.startswith("chatgpt/") and len(store.leaves(store.load(n)[:1].id)) > 2
            ),
            None,
        )
    found = [
        ("01-list", "/"),
        ("02-search-title", "/?q=sourdough&in=title"),
        ("03-search-text", "/?q=sintra&in=text"),
        ("04-tree", f"/d/{trip[:1].id}"),
        ("05-transcript-rich", "/c/rich"),
        ("06-transcript-trip", "/c/trip"),
        ("07-compare-last-reply", f"/compare?a={trip.id}&b={branches[0]}"),
        ("08-compare-week", f"/compare?a={trip.id}&b={branches[-1]}"),
        ("09-hostile", "/c/%3Ci%3Ehostile%3C%2Fi%3E"),
        ("10-imported", f"/c/{imported.replace('/', '%2F')}"),
        ("11-not-found", "/c/nothing-here"),
    ]
    if forked is not None:
        with SQLiteStore(db) as store:
            root = store.load(forked)[:1].id
        found.append(("12-imported-tree", f"/d/{root}"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the folder to write the PNGs in")
    parser.add_argument("--exports", type=Path, default=EXPORTS, help="export samples to import")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    missing = chromium_missing()
    if missing:
        print(f"screenshots: {missing}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "sample.db"
        build(db)
        if args.exports.is_dir():
            print("imported:", ", ".join(import_exports(db, args.exports)))
        server = Server.start(db)
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = browser.new_page(viewport={"width": args.width, "height": 900})
                for name, path in pages(db):
                    page.goto(server.url.rstrip("/") + path)
                    page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
                    print(args.out / f"{name}.png")
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

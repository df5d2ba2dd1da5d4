"""How long the viewer's pages take over a large store (a look, not a benchmark with floors).

    .venv/bin/python tools/time_viewer.py [STORE.db [DIALOGUES]]

Builds (once, at STORE.db, default /tmp/viewer-1000.db) a store of 1,000
dialogues (or DIALOGUES), each three branches of nine or ten turns, runs ``conversation
serve`` over it and times one request to each page (the first list is
"cold": every branch is loaded from the store; later pages reuse them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from conversation import Conversation  # noqa: E402
from conversation.store import SQLiteStore  # noqa: E402
from tests.conversation.viewer.serving import Server  # noqa: E402


def build(db: Path, dialogues: int = 1000) -> None:
    with SQLiteStore(db) as store:
        for number in range(dialogues):
            c = Conversation().user(f"Question {number} about topic {number % 37}")
            for turn in range(4):
                c = c.assistant(f"Answer {turn} of dialogue {number}, " + "words " * 40)
                c = c.user(f"More {turn}")
            store.save(c.assistant("end A"), name=f"d{number}")
            store.save(c.assistant("end B"))
            store.save(c.assistant("end C"))


def main() -> None:
    db = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/viewer-1000.db")
    if not db.exists():
        build(db, int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
    server = Server.start(db)
    pages = [
        ("list (cold)", "/"),
        ("list", "/"),
        ("list (3rd)", "/"),
        ("search in text", "/?q=dialogue+999&in=text"),
        ("search in titles", "/?q=topic+5&in=title"),
        ("dialogue tree", "/d/d500"),
        ("branch", "/c/d500"),
        ("compare", "/compare?a=d500&b=d501"),
    ]
    try:
        with httpx.Client(base_url=server.url, timeout=300) as http:
            for label, path in pages:
                start = time.perf_counter()
                response = http.get(path)
                took = time.perf_counter() - start
                size = len(response.content) // 1024
                print(f"{label:18} {response.status_code} {took * 1000:7.0f} ms {size:6} KiB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

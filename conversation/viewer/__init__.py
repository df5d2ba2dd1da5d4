"""A local, read-only web viewer over a conversation store (``conversation serve``).

Pages: the store's dialogues (each tree of branches that share a first turn)
with a search by title and text; a dialogue as its tree; a branch as a
transcript; two branches side by side from their fork. Everything a model
or a person wrote is shown as text, never run as HTML or script. Needs the
``viewer`` extra (Starlette and uvicorn): ``pip install 'conversation-state[viewer]'``.

>>> from conversation import Conversation
>>> from conversation.store import SQLiteStore
>>> store = SQLiteStore(":memory:")
>>> _ = store.save(Conversation().user("<b>hi</b>").assistant("Hello"), name="hi")
>>> app = create_app(store)
>>> app.routes[0].path
'/'
>>> store.close()
"""

from ._app import LOCAL_HOSTS, SECURITY_HEADERS, create_app
from ._serve import serve

__all__ = ["LOCAL_HOSTS", "SECURITY_HEADERS", "create_app", "serve"]

"""Instances made without running ``__init__``, for values built from checked data.

The frozen values (turns, blocks, replies) validate what a caller
hands them; where the library itself builds one from parts it has already
checked (a decoded save file, a folded reply, a derived turn), it sets the
fields directly on an instance from :func:`new` instead of validating twice.
"""

from __future__ import annotations

__all__ = ["new"]

new = object.__new__
"""``object.__new__``: an instance of a class with no field set yet."""

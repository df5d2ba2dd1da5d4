"""Keeping secrets out of what an adapter shows or writes: the one redaction rule.

An API key must never reach an error message, a log line or a recorded
cassette. :func:`redact` replaces the secrets an adapter knows (its own key)
and anything shaped like an Anthropic key (``sk-ant-...``) or an OpenAI key
(``sk-proj-...``, ``sk-svcacct-...``, a legacy ``sk-`` and 48 characters) in a text;
:func:`scrub_fields` replaces the values of fields whose names say they hold
a secret (``api_key``, ``authorization``...) in a JSON value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["REDACTED", "SECRET_FIELDS", "redact", "scrub_fields"]

REDACTED: Final = "[redacted]"
_KEY_SHAPE: Final = re.compile(
    r"sk-ant-[A-Za-z0-9_\-]{6,}"
    r"|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{16,}"
    r"|\bsk-[A-Za-z0-9]{32,}"
)
_MIN_SECRET: Final = 4  # shorter "secrets" would scrub ordinary words

SECRET_FIELDS: Final = frozenset(
    {
        "api_key",
        "x_api_key",
        "anthropic_api_key",
        "authorization",
        "proxy_authorization",
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "secret",
        "cookie",
    }
)
"""Field names (lower case, ``-`` read as ``_``) whose values are secrets wherever they are."""


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and anything shaped like a provider's key replaced.

    >>> redact("key sk-ant-api03-abcdefgh, token hunter22", ["hunter22"])
    'key [redacted], token [redacted]'
    >>> redact("Incorrect API key provided: sk-proj-AbCdEfGh0123456789xyz.")
    'Incorrect API key provided: [redacted].'
    """
    for secret in secrets:
        if len(secret) >= _MIN_SECRET:
            text = text.replace(secret, REDACTED)
    return _KEY_SHAPE.sub(REDACTED, text)


def _is_secret(name: str) -> bool:
    return name.strip().lower().replace("-", "_") in SECRET_FIELDS


def scrub_fields(value: Any) -> Any:
    """``value`` (JSON) with the value of every secret-named field replaced, at any depth.

    The input is not changed; containers are copied only where something was replaced.

    >>> scrub_fields({"metadata": {"user_id": "u1", "api_key": "k"}})
    {'metadata': {'user_id': 'u1', 'api_key': '[redacted]'}}
    """
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            new = REDACTED if isinstance(key, str) and _is_secret(key) else scrub_fields(item)
            changed = changed or new is not item
            out[key] = new
        return out if changed else value
    if isinstance(value, list):
        items = [scrub_fields(item) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value

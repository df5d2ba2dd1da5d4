"""Opening an export: a path, a folder, a ``.zip``, a file object, bytes, or parsed JSON.

The export's ``conversations.json`` is parsed whole (it is one JSON value);
what is built from it is built one conversation at a time by the readers.
Files beside it in a ``.zip`` or a folder (a ChatGPT export's uploaded images)
are found by name when a reader asks for them, and read only then.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Any

import orjson

from ..errors import ImportFormatError, type_name

__all__ = ["Export", "Source", "open_export"]

Source = str | os.PathLike[str] | bytes | IO[bytes] | IO[str] | list[Any] | Mapping[str, Any]
"""What a reader takes: a path (a file, a folder or a ``.zip``), the file's
bytes, an open file (binary or text), or the JSON already parsed."""

_MAIN = "conversations.json"
_ZIP_MAGIC = b"PK\x03\x04"


class Export:
    """The parsed conversations of one export, and a way to read the files beside them."""

    def __init__(self, items: list[Any], files: _Files | None) -> None:
        self.items = items
        self._files = files

    def find(self, key: str) -> bytes | None:
        """The bytes of the file whose name starts with ``key`` (a ChatGPT file id), if any.

        A file that cannot be read (a damaged member of the .zip) counts as absent.
        """
        return None if self._files is None else self._files.find(key)

    def close(self) -> None:
        """Close the ``.zip`` it reads files from, if any."""
        if self._files is not None:
            self._files.close()


class _Files:
    """The files of a ``.zip`` or a folder, by their name's first part (the file id)."""

    def __init__(self, names: list[str], read: Callable[[str], bytes], close: Callable[[], None]):
        self._read = read
        self._close = close
        self._by_key: dict[str, str] = {}
        for name in names:
            base = PurePosixPath(name).name
            if base.endswith((".json", ".html")):
                continue
            self._by_key.setdefault(_file_key(base), name)

    def find(self, key: str) -> bytes | None:
        name = self._by_key.get(key)
        if name is None:
            return None
        try:
            return self._read(name)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
            return None

    def close(self) -> None:
        self._close()


def _file_key(base: str) -> str:
    """``file-AbC`` of ``file-AbC-photo.png``, ``file_00ab`` of ``file_00ab-1c2d.png``."""
    stem = base.split(".", 1)[0]
    for prefix in ("file-", "file_"):
        if stem.startswith(prefix):
            rest = stem[len(prefix) :]
            return prefix + rest.split("-", 1)[0]
    return stem


def open_export(source: Any, app: str) -> Export:
    """Parse ``source`` (see :data:`Source`) into the list of its conversation objects."""
    if isinstance(source, list):
        return Export(source, None)
    if isinstance(source, Mapping):
        return Export([source], None)  # one conversation object, as the app's API returns it
    if isinstance(source, str | os.PathLike):
        return _open_path(Path(source), app)
    if isinstance(source, bytes | bytearray | memoryview):
        return _open_bytes(bytes(source), app)
    read = getattr(source, "read", None)
    if callable(read):
        data = read()
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        if not isinstance(data, bytes):
            raise ImportFormatError(
                f"the file object's read() returned {type_name(data)}, not bytes or str",
                app=app,
            )
        return _open_bytes(data, app)
    raise ImportFormatError(
        f"cannot read an export from {type_name(source)}; give a path (the export's .zip, its "
        "folder or its conversations.json), an open file, bytes, or the parsed JSON",
        app=app,
    )


def _open_path(path: Path, app: str) -> Export:
    if path.is_dir():
        main = path / _MAIN
        if not main.is_file():
            raise ImportFormatError(f"the folder {str(path)!r} holds no {_MAIN}", app=app)
        names = [str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()]
        files = _Files(names, lambda name: (path / name).read_bytes(), lambda: None)
        return Export(_parse(main.read_bytes(), app), files)
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == _ZIP_MAGIC:
        return _open_zip(lambda: zipfile.ZipFile(path), app)
    return Export(_parse(path.read_bytes(), app), None)


def _open_bytes(data: bytes, app: str) -> Export:
    if data[:4] == _ZIP_MAGIC:
        return _open_zip(lambda: zipfile.ZipFile(io.BytesIO(data)), app)
    return Export(_parse(data, app), None)


def _open_zip(opener: Callable[[], zipfile.ZipFile], app: str) -> Export:
    try:
        archive = opener()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ImportFormatError(f"the .zip cannot be read ({exc})", app=app) from exc
    try:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        mains = sorted(
            (n for n in names if PurePosixPath(n).name == _MAIN), key=lambda n: n.count("/")
        )
        if not mains:
            raise ImportFormatError(f"the .zip holds no {_MAIN}", app=app)
        items = _parse(archive.read(mains[0]), app)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ImportFormatError(f"the .zip cannot be read ({exc})", app=app) from exc
    finally:
        archive.close()
    reader = _ZipReader(opener)
    return Export(items, _Files(names, reader.read, reader.close))


class _ZipReader:
    """Reads members of a .zip, opening it at the first read (again after a close)."""

    def __init__(self, opener: Callable[[], zipfile.ZipFile]) -> None:
        self._opener = opener
        self._archive: zipfile.ZipFile | None = None

    def read(self, name: str) -> bytes:
        if self._archive is None:
            self._archive = self._opener()
        return self._archive.read(name)

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None


def _parse(data: bytes, app: str) -> list[Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImportFormatError(
            f"the file is not JSON ({exc}); give the export's conversations.json or its .zip",
            app=app,
        ) from exc
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise ImportFormatError(
            f"expected a JSON array of conversations, got {type_name(value)}", app=app
        )
    return value

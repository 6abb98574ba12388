"""Small data structures shared by the public API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Union

_Pairs = Union[Mapping[str, str], Iterable[tuple[str, str]], None]


class Headers(MutableMapping[str, str]):
    """A case-insensitive header mapping, like ``requests.structures.CaseInsensitiveDict``.

    Repeated response headers are joined with ", " as HTTP allows.

    >>> h = Headers([("Content-Type", "application/json")])
    >>> h["content-type"]
    'application/json'
    """

    __slots__ = ("_store",)

    def __init__(self, data: _Pairs = None) -> None:
        self._store: dict[str, tuple[str, str]] = {}
        if data is None:
            return
        items = data.items() if isinstance(data, Mapping) else data
        for key, value in items:
            lower = key.lower()
            if lower in self._store:
                self._store[lower] = (self._store[lower][0], self._store[lower][1] + ", " + value)
            else:
                self._store[lower] = (key, value)

    def __getitem__(self, key: str) -> str:
        return self._store[key.lower()][1]

    def __setitem__(self, key: str, value: str) -> None:
        self._store[key.lower()] = (key, value)

    def __delitem__(self, key: str) -> None:
        del self._store[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def copy(self) -> "Headers":
        return Headers(list(self.items()))

    def __repr__(self) -> str:
        shown = {k: ("<redacted>" if k.lower() in _SENSITIVE else v) for k, v in self.items()}
        return f"Headers({shown!r})"


# Never shown by repr(): they carry credentials.
_SENSITIVE = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-csrf-token"})

"""A least-recently-used cache bounded by entry count and by (estimated) bytes, both enforced.

Every cache a serving process keeps uses this (or functools.lru_cache over keys of bounded size),
so memory is bounded by design whatever questions arrive: an entry costs at least OVERHEAD bytes
even when its value is empty, and the oldest entries go first once either limit is passed.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, Generic, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
OVERHEAD = 160  # bytes an entry costs beyond its key and value: the dict slots and links
_MISSING = object()


def approx_size(obj: object, _depth: int = 0) -> int:
    """Return an estimate of the bytes an object holds: strings, arrays, containers of them."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes + 112
    if isinstance(obj, (str, bytes, int, float, bool)) or obj is None or _depth > 4:
        return sys.getsizeof(obj)
    if isinstance(obj, dict):
        return sys.getsizeof(obj) + sum(approx_size(k, _depth + 1) + approx_size(v, _depth + 1)
                                        for k, v in obj.items())
    if isinstance(obj, (tuple, list, set, frozenset)):
        return sys.getsizeof(obj) + sum(approx_size(item, _depth + 1) for item in obj)
    return sys.getsizeof(obj)


class BoundedCache(Generic[K, V]):
    """An LRU mapping holding at most `entries` items and about `max_bytes` bytes."""

    def __init__(self, entries: int, max_bytes: int, size: Callable[[K, V], int] | None = None) -> None:
        self.entries, self.max_bytes = entries, max_bytes
        self._size = size or (lambda key, value: approx_size(key) + approx_size(value))
        # Values and their costs apart, not as (value, cost) pairs: a pair holding a container is
        # one more object every garbage collection walks, for each of thousands of entries.
        self._items: OrderedDict[K, V] = OrderedDict()
        self._costs: dict[K, int] = {}
        self.nbytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: K, default: V | None = None) -> V | None:
        """Return the value for key (and mark it recently used), or default."""
        with self._lock:
            value = self._items.get(key, _MISSING)
            if value is _MISSING:
                return default
            self._items.move_to_end(key)
            return value  # type: ignore[return-value]

    def put(self, key: K, value: V) -> None:
        """Remember a value; evict least recently used entries past either limit."""
        cost = self._size(key, value) + OVERHEAD
        with self._lock:
            old_cost = self._costs.pop(key, None)
            if old_cost is not None:
                del self._items[key]
                self.nbytes -= old_cost
            if cost > self.max_bytes:  # larger than the whole cache: not kept at all
                return
            self._items[key] = value
            self._costs[key] = cost
            self.nbytes += cost
            while len(self._items) > self.entries or self.nbytes > self.max_bytes:
                old, _value = self._items.popitem(last=False)
                self.nbytes -= self._costs.pop(old)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
            self._costs.clear()
            self.nbytes = 0


def bounded_cache(entries: int, max_bytes: int, size: Callable[[tuple, Any], int] | None = None,
                  ) -> Callable[[Callable[..., V]], Callable[..., V]]:
    """Decorate a function of hashable positional arguments with a BoundedCache of its results.

    `size` estimates an entry's bytes cheaply where the generic walk would cost more than the
    work the cache saves.
    """
    def decorate(function: Callable[..., V]) -> Callable[..., V]:
        cache: BoundedCache[tuple, V] = BoundedCache(entries, max_bytes, size)
        missing = object()

        @wraps(function)
        def cached(*args: Hashable, **kwargs: Hashable) -> V:
            key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
            value = cache.get(key, missing)  # type: ignore[arg-type]
            if value is missing:
                value = function(*args, **kwargs)
                cache.put(key, value)
            return value  # type: ignore[return-value]

        cached.cache = cache  # type: ignore[attr-defined]
        cached.cache_clear = cache.clear  # type: ignore[attr-defined]
        return cached
    return decorate

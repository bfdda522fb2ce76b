"""Where uploads, previews and results live, shared by the API and the worker. Torch-free.

A small interface (put/get/open/delete/exists/older_than) with a local-directory backend (default
VAR_DIR/media, or MEDIA_DIR). STORAGE picks the backend by name from BACKENDS ("local"; an S3 backend plugs in
behind the same interface). Keys are server-made, slash-separated paths such as "uploads/<job>/content.png";
nothing a client sends ever becomes part of a key.
"""
from __future__ import annotations

import importlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Optional

from worker import settings

KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


def check_key(key: str) -> str:
    if not KEY.match(key) or ".." in key:
        raise ValueError(f"bad storage key {key!r}: letters, digits, _ - . and / only, no '..'")
    return key


class Storage:
    def put(self, key: str, data: bytes) -> None: raise NotImplementedError
    def get(self, key: str) -> bytes: raise NotImplementedError  # FileNotFoundError when missing
    def open(self, key: str) -> BinaryIO: raise NotImplementedError
    def delete(self, key: str) -> None: raise NotImplementedError  # missing is fine
    def exists(self, key: str) -> bool: raise NotImplementedError
    def older_than(self, prefix: str, ts: float) -> list[str]: raise NotImplementedError  # keys under prefix

    def delete_prefix(self, prefix: str) -> None:
        for key in self.older_than(prefix, float("inf")):
            self.delete(key)


class LocalStorage(Storage):
    def __init__(self, root: Optional[str] = None):
        self.root = Path(root or settings.get().media_dir)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key, data):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader (a poll for the preview) never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key):
        return self._path(key).read_bytes()

    def open(self, key):
        return open(self._path(key), "rb")

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def exists(self, key):
        return self._path(key).is_file()

    def older_than(self, prefix, ts):
        base = self._path(prefix.rstrip("/")) if prefix else self.root
        if not base.exists():
            return []
        keys = []
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-") and path.stat().st_mtime < ts:
                keys.append(path.relative_to(self.root).as_posix())
        return keys


BACKENDS = {"local": "worker.storage:LocalStorage", "s3": "worker.storage_s3:S3Storage"}
_cache: dict[tuple, Storage] = {}


def get_storage(name: Optional[str] = None, var_dir: Optional[str] = None) -> Storage:
    """The backend named by STORAGE (default local), one instance per process and setting.

    Every backend class takes `root` (the local directory: MEDIA_DIR, else <var_dir>/media); others may ignore it.
    """
    s = settings.get()
    name = name or s.STORAGE
    if name not in BACKENDS:
        raise ValueError(f"STORAGE must be one of {', '.join(BACKENDS)}, not {name!r}")
    root = str(s.MEDIA_DIR or os.path.join(str(var_dir or s.VAR_DIR), "media"))
    key = (name, root)
    if key not in _cache:
        module, cls = BACKENDS[name].split(":")
        _cache[key] = getattr(importlib.import_module(module), cls)(root=root)
    return _cache[key]


def cleanup(store, storage: Storage, ttl: float, now: Optional[float] = None) -> int:
    """Delete jobs created more than ttl seconds ago: their uploads, preview, result and record. Returns count."""
    cutoff = (now or time.time()) - ttl
    n = 0
    for job_id in store.older_than(cutoff):
        storage.delete_prefix(f"uploads/{job_id}")
        storage.delete_prefix(f"jobs/{job_id}")
        store.delete(job_id)
        n += 1
    # Orphans: files whose record is gone (e.g. a submit that failed after upload).
    for key in storage.older_than("uploads", cutoff) + storage.older_than("jobs", cutoff):
        storage.delete(key)
    return n

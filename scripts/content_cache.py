"""Results of Helm's engine kept by the digest of everything they are computed from.

A chart render or lint is a pure function of the chart's files, the values and the options, and
it is most of what the validators spend: kept here, a run whose inputs did not change reuses the
result, and checks that template the same chart with the same values in one run (the broken-copy
checks of scripts/validate-rendered) pay for it once. Without a folder (PLATFORM_HELM_CACHE unset)
nothing is kept and everything is computed afresh.
"""

import functools
import hashlib
import os
import pathlib
import tempfile
from importlib import metadata

ENV = "PLATFORM_HELM_CACHE"


@functools.cache
def tree_digest(path):
    """The digest of a folder's files (names and contents), or of one file."""
    path = pathlib.Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        digest.update(str(f.relative_to(path) if f != path else f.name).encode() + b"\0")
        digest.update(f.read_bytes() + b"\0")
    return digest.hexdigest()


class Cache:
    """A folder of results, each a text file named by the digest of its inputs."""

    def __init__(self, folder, engine):
        self.folder = pathlib.Path(folder) if folder else None
        # The engine's version is part of every key: another Helm gives other results.
        self.engine = f"{engine} {metadata.version(engine)}"
        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, engine):
        return cls(os.environ.get(ENV), engine)

    def key(self, *parts):
        """The digest of `parts` (strings; paths stand for their contents) and the engine."""
        digest = hashlib.sha256(self.engine.encode())
        for part in parts:
            text = tree_digest(part) if isinstance(part, pathlib.Path) else str(part)
            digest.update(b"\0" + text.encode())
        return digest.hexdigest()

    def get(self, key):
        if not self.folder:
            return None
        entry = self.folder / key
        try:
            text = entry.read_text()
        except FileNotFoundError:
            return None
        # Used now: scripts/test drops entries unused for a week.
        os.utime(entry)
        return text

    def put(self, key, text):
        if not self.folder:
            return
        # Written aside and renamed, so a reader never sees half an entry.
        with tempfile.NamedTemporaryFile("w", dir=self.folder, delete=False) as f:
            f.write(text)
        os.replace(f.name, self.folder / key)

"""`qa-service index status`: the live version, and content changed since it was built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa_service.ingest.content import content_files
from qa_service.search.format import PREVIOUS, file_hash, read_manifest, read_pointer, require_current


@dataclass(frozen=True)
class IndexStatus:
    """The live version and how the content folder has moved on since it was built."""

    version: str
    built_at: str
    reports: int
    passages: int
    previous: str | None
    added: list[str]
    changed: list[str]
    removed: list[str]

    def lines(self) -> list[str]:
        """Return the status as lines for the terminal."""
        out = [f"Live version: {self.version} (built {self.built_at})",
               f"Reports: {self.reports}, passages: {self.passages}",
               f"Previous version (for rollback): {self.previous or 'none'}"]
        if not (self.added or self.changed or self.removed):
            return out + ["Content: unchanged since this build"]
        out.append("Content changed since this build (run `qa-service index build`):")
        out += [f"  added    {p}" for p in self.added]
        out += [f"  changed  {p}" for p in self.changed]
        out += [f"  removed  {p}" for p in self.removed]
        return out


def index_status(content_dir: Path, index_dir: Path) -> IndexStatus:
    """Describe the live version and list content files added, changed or removed since."""
    live = require_current(index_dir)
    manifest = read_manifest(index_dir, live)
    before = manifest.files
    now = {str(p.relative_to(content_dir)): p for p in content_files(content_dir)}
    return IndexStatus(
        version=live, built_at=manifest.built_at, reports=manifest.reports,
        passages=manifest.passages, previous=read_pointer(index_dir, PREVIOUS),
        added=sorted(set(now) - set(before)),
        changed=sorted(rel for rel, p in now.items() if rel in before and before[rel]["sha256"] != file_hash(p)),
        removed=sorted(set(before) - set(now)),
    )

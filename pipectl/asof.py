"""The pipeline as it stood at the end of a day (`--as-of DATE`): deals and pipeline.yaml read
from that day's last commit, history up to that commit only, so every figure is the one a
checkout of that commit gives with `--today` that day.

No worktree, no checkout, no lock, nothing of the worktree's written: ONE `git ls-tree -r -z`
lists the commit's tree and ONE `git cat-file --batch` reads the blobs wanted, never a git
process per deal; deal blobs already parsed come from caches/blobs.py (keyed by blob id), the
history is HEAD's index cut at the commit (`histindex.snapshot_at`, its fold kept). The API:

- `commit_on(git, day)`: the commit on HEAD's first-parent line that ends `day`, or None.
- `pipeline_at(root, git, commit)`: a `PipelineAt`, the `store.Pipeline` of that tree: `load`,
  `resolve`, `read_bytes` answer from the blobs; `change` is refused; `at` names the commit
  (the history readers take it: `history.read(git, root, at=pipeline.at)`); `load_briefs`
  gives the light deals `changes` reads at an end (caches/briefs.py).
- `commit_as_of(pipeline, day)`: `commit_on` for the commands, with one-line errors for a
  day before the first commit, in the future or outside git.

Starts git only through `gitrepo.GitRepo`. Never prints.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import NoReturn

from pipectl import dates
from pipectl.caches import framed
from pipectl.caches.blobs import BlobCache
from pipectl.caches.briefs import BriefCache, brief, light
from pipectl.caches.deals import Seen
from pipectl.commitdays import before_first, commit_on
from pipectl.config import CONFIG_FILE, Config, config_from_bytes
from pipectl.deal import Deal, is_valid_id
from pipectl.errors import ConfigError, DealError, GitError, UsageError
from pipectl.gitrepo import GitRepo
from pipectl.store import MAX_DEAL_BYTES, DealRef, LoadResult, Pipeline

# Deal files nested this deep below the root are still looked at by lint's stray-file rule
# (rules_structure._stray_candidates walks as deep)
_STRAY_DEPTH = 4
_READ_ONLY = "--as-of shows the pipeline of another day: nothing can be changed in it"


def commit_as_of(pipeline: Pipeline, day: dt.date) -> str:
    """The commit that ends `day` (`commit_on`); a UsageError (exit 2) for a day in the
    future, outside git, or before the first commit. Its tree is not read: a kept answer
    about that commit (pipectl/pastmemo.py) needs no more, `pipeline_at` reads it."""
    now = dates.today()
    if day > now:
        raise UsageError(f"--as-of {day.isoformat()} is in the future (today is {now})")
    if pipeline.git is None:
        raise UsageError("--as-of reads git's history: this pipeline is not in a git repository")
    commit = commit_on(pipeline.git, day)
    if commit is None:
        raise UsageError(before_first(pipeline.git, f"--as-of {day.isoformat()}"))
    return commit


def pipeline_at(
    root: Path, git: GitRepo, commit: str, cache: BlobCache | None = None
) -> PipelineAt:
    """The pipeline at `root` as `commit`'s tree holds it: its pipeline.yaml and every deal
    file, from one `git ls-tree` and one `git cat-file --batch` (for the blobs the blob-keyed
    parse cache, caches/blobs.py, does not know; a second one, only if a command then wants
    the bytes of a blob the cache knew, as lint's line lookups may). Two trees read with one
    `cache` (`blob_cache`) share it: a deal whose blob and place both hold is decoded once."""
    tree = tree_of(root, git, commit)
    if CONFIG_FILE not in tree:
        rel = git.rel(root)
        where = "" if rel == "." else rel + "/"
        raise UsageError(f"{commit[:12]} has no {where}{CONFIG_FILE}: the pipeline began later")
    if cache is None:
        cache = blob_cache(root, git)
    first = {
        oid
        for path, oid in tree.items()
        if path == CONFIG_FILE or (_maybe_deal(path) and not cache.known(oid))
    }
    blobs = _blobs(git, first)
    try:
        config = config_from_bytes(blobs.get(tree[CONFIG_FILE], b""), root / CONFIG_FILE)
    except ConfigError as exc:  # that commit's file, not the one on disk: say which
        raise ConfigError(f"{exc.message} (at {commit[:8]})", exc.path, exc.line) from None
    return PipelineAt(root, git, commit, config, tree, blobs, cache)


def narrow(
    root: Path, git: GitRepo, commit: str, tree: Mapping[str, str], wanted: Sequence[str]
) -> PipelineAt:
    """The pipeline of `commit` (its `tree`, as `_tree` lists it) for reading only the deal
    files `wanted`: their blobs and pipeline.yaml's read by one cat-file, any other file read
    when asked, no parse cache read or kept (`changes` re-reads the few deals a new commit
    touched, caches/windows.py)."""
    blobs = _blobs(git, {tree[p] for p in (CONFIG_FILE, *wanted) if p in tree})
    config = config_from_bytes(blobs.get(tree.get(CONFIG_FILE, ""), b""), root / CONFIG_FILE)
    found = PipelineAt(root, git, commit, config, tree, blobs, BlobCache(None))
    found.bulk = False
    return found


def blob_cache(root: Path, git: GitRepo) -> BlobCache:
    """The blob-keyed parse cache of the pipeline at `root`, for one or more trees."""
    try:
        return BlobCache(framed.default_dir(root, git.git_dir()))
    except GitError:  # a `.git` file naming no git directory: nothing is kept there
        return BlobCache(None)


class PipelineAt(Pipeline):
    """A pipeline of one commit's tree: every read answered from git's blobs, nothing written
    but the blob-keyed parse cache. Paths are where the files would be in the worktree
    (`root / stage / id.md`), so they show as in a checkout of the commit."""

    def __init__(
        self,
        root: Path,
        git: GitRepo,
        commit: str,
        config: Config,
        tree: Mapping[str, str],
        blobs: dict[str, bytes],
        cache: BlobCache,
    ):
        super().__init__(root, config)
        self.git = self._git = git
        self.at = commit
        self.tree = tree  # pipeline-relative path -> blob id
        self._blobs, self._cache = blobs, cache
        self.bulk = True  # a blob read reads every unread deal blob with it (`narrow`: not)

    def deal_refs(self, stages: Sequence[str] | None = None) -> list[DealRef]:
        wanted = list(stages) if stages is not None else list(self.config.stage_names)
        return refs_of(self.root, deal_names(self.tree, wanted))

    def _load(self, stages: Sequence[str], relative: bool, seen: Seen | None = None) -> LoadResult:
        return self._read_deals(stages, relative, None)  # blobs: nothing on disk was seen

    def load_briefs(self, briefs: BriefCache) -> LoadResult:
        """Every deal as `changes` reads an end: light deals from their briefs
        (caches/briefs.py), a deal read whole only when its blob has none yet; `briefs.save()`
        is the caller's, once for both ends."""
        return self._read_deals(list(self.config.stage_names), False, briefs)

    def _read_deals(
        self, stages: Sequence[str], relative: bool, briefs: BriefCache | None
    ) -> LoadResult:
        return LoadResult.of(self._items(self.deal_refs(stages), relative, briefs))

    def brief_items(self, refs: Sequence[DealRef], briefs: BriefCache) -> list[Deal | DealError]:
        """These deals as `load_briefs` reads them, in order, or why each did not parse."""
        return self._items(refs, False, briefs)

    def _items(
        self, refs: Sequence[DealRef], relative: bool, briefs: BriefCache | None
    ) -> list[Deal | DealError]:
        out: list[Deal | DealError] = []
        folders: dict[str, Path] = {}
        collecting = gc.isenabled()  # as the deal cache does: many new objects, no cycles
        gc.disable()
        try:
            for ref in refs:
                folder = folders.get(ref.stage)
                if folder is None:  # shown as the deal cache shows them: the folder, then name
                    where = Path(ref.stage) if relative else self.display(ref.path.parent)
                    folder = folders[ref.stage] = where
                oid = self.tree[f"{ref.stage}/{ref.name}"]
                found = None if briefs is None else briefs.get(oid)
                if found is not None:
                    self._cache.keep(oid)  # still wanted: a later `--as-of` reads it whole
                    out.append(light(found, ref.id, ref.stage, folder))
                    continue
                item = self._deal(oid, ref, folder, relative)
                if briefs is not None and isinstance(item, Deal) and (made := brief(item)):
                    briefs.put(oid, made)
                out.append(item)
        finally:
            if collecting:
                gc.enable()
        self._cache.save()
        return out

    def _deal(self, oid: str, ref: DealRef, folder: Path, relative: bool) -> Deal | DealError:
        # a blob at the same place in a tree read before is that tree's deal
        place = (oid, ref.stage, ref.name, "." if relative else "")
        item = self._cache.seen.get(place)
        if item is None:
            read = partial(self._read_ref, ref)
            item = self._cache.parse(oid, read, ref, folder / ref.name)
            self._cache.seen[place] = item
        return item

    def _read_ref(self, ref: DealRef) -> bytes:
        return self._read_bytes(ref.path)

    def _read_bytes(self, path: Path) -> bytes:
        try:
            oid = self.tree[path.relative_to(self.root).as_posix()]
        except (KeyError, ValueError):
            raise DealError("cannot read: No such file or directory", self.display(path)) from None
        if oid not in self._blobs:  # every blob still unread at once: one more cat-file
            unread = {
                o
                for p, o in self.tree.items()
                if self.bulk and _maybe_deal(p) and o not in self._blobs
            }
            self._blobs.update(_blobs(self._git, unread | {oid}))
        data = self._blobs.get(oid)
        if data is None:  # gone from a partial clone
            raise DealError("cannot read: not in this clone", self.display(path))
        if len(data) > MAX_DEAL_BYTES:
            raise DealError(f"is larger than {MAX_DEAL_BYTES >> 20} MB; not read", path)
        return data

    def exact(self, deal_id: str) -> list[DealRef]:
        if not is_valid_id(deal_id):
            return []
        name = f"{deal_id}.md"
        return [
            DealRef(deal_id, s, self.root / s / name)
            for s in self.config.stage_names
            if f"{s}/{name}" in self.tree
        ]

    def inside(self, path: Path) -> bool:
        return True  # a tree holds no links out: its links were not read (see _tree)

    def change(self, commit: bool = True) -> NoReturn:
        raise UsageError(_READ_ONLY)

    def stray_candidates(self, stages: set[str]) -> list[Path]:
        """The files lint's stray-file rule would look at in a checkout of the commit (its
        `_stray_candidates`, over the tree): `.md` files with frontmatter outside a stage's
        own deals, hidden folders and nested pipelines left out, at most 4 levels deep."""
        nested = {p.rpartition("/")[0] for p in self.tree if p.endswith("/" + CONFIG_FILE)}
        out = []
        for path in sorted(self.tree):
            parts = path.split("/")
            if len(parts) > _STRAY_DEPTH or any(p.startswith(".") for p in parts):
                continue
            if any("/".join(parts[:i]) in nested for i in range(1, len(parts))):
                continue
            name = parts[-1]
            if not name.lower().endswith(".md"):
                continue
            if len(parts) == 2 and parts[0] in stages and name.endswith(".md"):
                continue  # a stage's own deal: the loader's
            head = self._read_bytes(self.root / path)[:8]
            if head.removeprefix(b"\xef\xbb\xbf").startswith(b"---"):
                out.append(self.root / path)
        return out


def deal_names(tree: Mapping[str, str], stages: Sequence[str]) -> list[tuple[str, str]]:
    """The deal files of a tree (`tree_of`) in these stages: (stage, file name), in the order
    the stages are given, by name within each."""
    by_stage: dict[str, list[str]] = {}
    for path in tree:
        stage, _, name = path.partition("/")
        if name.endswith(".md") and "/" not in name and not name.startswith("."):
            by_stage.setdefault(stage, []).append(name)
    return [(stage, n) for stage in stages for n in sorted(by_stage.get(stage, ()))]


def refs_of(root: Path, names: Sequence[tuple[str, str]]) -> list[DealRef]:
    """The refs of `deal_names`' files of the pipeline at `root` (one folder string a stage)."""
    folders: dict[str, str] = {}
    refs = []
    for stage, name in names:
        folder = folders.get(stage)
        if folder is None:
            folder = folders[stage] = str(root / stage)
        refs.append(DealRef.listed(stage, folder, name))
    return refs


def _maybe_deal(path: str) -> bool:
    """A file the commands or lint may read: any `.md` within lint's depth."""
    return path.lower().endswith(".md") and path.count("/") < _STRAY_DEPTH


def tree_of(root: Path, git: GitRepo, commit: str) -> dict[str, str]:
    """Every regular file of the pipeline at `root` in `commit`'s tree, by its path relative
    to the pipeline: its blob id (ONE `git ls-tree`)."""
    rel = git.rel(root)
    return _tree(git, commit, "" if rel == "." else rel + "/")


def _tree(git: GitRepo, commit: str, prefix: str) -> dict[str, str]:
    """Every regular file under the pipeline in `commit`'s tree: its path relative to the
    pipeline -> its blob id. Links and submodules are left out: a link in a tree points
    nowhere pipectl may follow."""
    spec = ["--", prefix] if prefix else []
    proc = git.run(["-c", "core.quotePath=false", "ls-tree", "-r", "-z", commit, *spec])
    out: dict[str, str] = {}
    for entry in proc.stdout.split("\0"):
        meta, tab, name = entry.partition("\t")
        parts = meta.split()
        regular = tab and len(parts) == 3 and parts[0] in ("100644", "100755")
        if regular and parts[1] == "blob" and name.startswith(prefix):
            out[name[len(prefix) :]] = parts[2]
    return out


def _blobs(git: GitRepo, oids: set[str]) -> dict[str, bytes]:
    """These blobs' bytes by id, from ONE `git cat-file --batch`."""
    if not oids:
        return {}
    found: dict[str, bytes] = {}
    data = bytearray()
    pos = 0
    for chunk in git.stream(["cat-file", "--batch"], input_bytes="\n".join(oids).encode()):
        data += chunk
        while (eol := data.find(b"\n", pos)) != -1:
            header = data[pos:eol].split(b" ")
            if len(header) != 3:  # "<oid> missing": gone from a partial clone
                pos = eol + 1
                continue
            end = eol + 1 + int(header[2])
            if end + 1 > len(data):
                break
            found[header[0].decode()] = bytes(data[eol + 1 : end])
            pos = end + 1
        del data[:pos]
        pos = 0
    return found

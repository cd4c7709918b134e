"""A deal's file as a whole: rename, remove, and undo of pipectl's last commit.

Each is one `Pipeline.change()`: the clone's lock, the refusal of uncommitted edits, one
commit, every file put back byte for byte on failure. Undo restores the exact bytes the
undone commit replaced, so a hand-written deal gets back every comment and blank it had.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipectl.commitdays import head_of as _head
from pipectl.deal import is_valid_id, parse_yaml
from pipectl.dealedit import set_fields
from pipectl.errors import UsageError
from pipectl.gitrepo import GitRepo
from pipectl.ops import Outcome
from pipectl.store import Pipeline

# how far back from HEAD undo looks for this clone's last pipectl commit
UNDO_DEPTH = 1000
# pipectl commits undo does not take back: an init holds the pipeline itself
NOT_UNDONE = ("init",)
# paths given to one `git log` (the argument list has a limit)
PATHS_PER_CALL = 500


# --- rename ---------------------------------------------------------------------------------


def rename(pipeline: Pipeline, ref_text: str, new_id: str, commit: bool = True) -> Outcome:
    """Give a deal a new id: its file renamed in its folder (git's rename detection follows
    it, so `history NEW-ID` shows its whole life), and its `id:` field when it has one."""
    if not is_valid_id(new_id):
        raise UsageError(
            f"{new_id!r} is not a deal id: lowercase letters, digits and dashes, as `add` makes"
        )
    with pipeline.change(commit) as ch:
        ref = pipeline.resolve(ref_text)
        if new_id == ref.id:
            raise UsageError(f"{ref.id} already has that id")
        taken = pipeline.exact(new_id)
        if taken:
            raise UsageError(f"{pipeline.display(taken[0].path)} already exists")
        text = pipeline.read_text(ref)
        shown = pipeline.display(ref.path)
        data: str | bytes | None = None
        if "id" in parse_yaml(text, shown):
            data = set_fields(text, {"id": new_id}).render()
        ch.move(ref.path, ref.path.with_name(f"{new_id}.md"), data)
        subject = f"rename {ref.id} -> {new_id}"
        ch.set_message(subject, "rename", [ref.id, new_id], trailers={"Renamed-From": ref.id})
    return Outcome(None, ch.committed, f"renamed {ref.id} to {new_id}")


# --- remove ---------------------------------------------------------------------------------


def remove(pipeline: Pipeline, ref_text: str, commit: bool = True) -> Outcome:
    """Delete a deal's file in one commit (git keeps it: `pipectl undo` or `git revert`)."""
    with pipeline.change(commit) as ch:
        ref = pipeline.resolve(ref_text)
        # a file changed meanwhile is refused, as every edit is; a broken one can still go
        pipeline.read_for_edit[ref.path] = pipeline.read_bytes(ref)
        git = pipeline.git
        if (
            commit
            and git is not None
            and git.rel(ref.path) not in git.head_blobs([ref.path.parent])
        ):
            raise UsageError(
                f"not removing {ref.id}: it was never committed, so git could not bring it "
                "back; commit it first, or delete the file yourself",
                pipeline.display(ref.path),
            )
        ch.delete(ref.path)
        ch.set_message(f"rm {ref.id}", "rm", ref.id)
    return Outcome(ref, ch.committed, f"removed {ref.id} ({ref.stage})")


# --- undo -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoPlan:
    """The commit undo takes back and, per file it touched, the bytes it had before."""

    sha: str
    head: str  # HEAD when planned: undo refuses if it moved before the lock was taken
    subject: str
    action: str
    files: tuple[tuple[Path, bytes | None], ...]  # None: the commit created the file

    def describe(self, pipeline: Pipeline) -> list[str]:
        out = []
        for path, before in self.files:
            verb = "delete" if before is None else "restore"
            if before is not None and not path.exists():
                verb = "recreate"
            out.append(f"{verb} {pipeline.display(path)}")
        return out


def plan_undo(pipeline: Pipeline) -> UndoPlan:
    """This clone's last pipectl commit on HEAD and what taking it back writes.

    "This clone's": the newest commit of HEAD's first-parent line that carries pipectl's
    `Pipectl-Action:` trailer and was authored by the current git identity (email, else
    name), among the last UNDO_DEPTH; commits already undone and undo's own are skipped, so
    undo again takes back the one before. Refused (UsageError) when a later commit touched
    the same files, or they changed since without a commit.
    """
    git = pipeline.git
    if git is None:
        raise UsageError("undo needs git: the pipeline is not in a git repository")
    if _head(git) is None:
        raise UsageError("nothing to undo: the repository has no commits yet")
    who = git.identity()
    target = None
    undone: set[str] = set()
    for sha, parents, email, name, message in _log(git, ["--first-parent", "HEAD"]):
        found = _trailers(message)
        if "Undoes" in found:
            undone.add(found["Undoes"])
        if "Action" not in found or found.get("Action") == "undo" or sha in undone:
            continue
        if not _mine(who, email, name):
            continue
        target = (sha, parents, message, found["Action"])
        break
    if target is None:
        raise UsageError(
            f"nothing to undo: no pipectl commit by you in the last {UNDO_DEPTH} of HEAD"
        )
    sha, parents, message, action = target
    subject = message.split("\n", 1)[0].strip()
    short = sha[:10]
    if action in NOT_UNDONE or len(parents) > 1:
        what = "a merge" if len(parents) > 1 else f"an {action}"
        raise UsageError(f"not undoing {short} ({subject}): undo does not take back {what}")
    names = _touched(git, sha)
    later = _later(git, sha, names)
    if later:
        other_sha, other_subject = later
        raise UsageError(
            f"not undoing {short} ({subject}): {other_sha[:10]} ({other_subject}) changed the "
            "same files since; undo never overwrites later work (`git revert` merges by hand)"
        )
    before = _blobs(git, f"{sha}^" if parents else None, names)
    after = _blobs(git, sha, names)
    files = []
    for name in names:
        path = git.root / name
        now = path.read_bytes() if path.is_file() else None
        if now != after[name]:
            raise UsageError(
                f"not undoing {short} ({subject}): {pipeline.display(path)} has changes not "
                "committed since; commit or drop them first"
            )
        files.append((path, before[name]))
    head = _head(git) or ""
    return UndoPlan(sha, head, subject, action, tuple(files))


def undo(pipeline: Pipeline, plan: UndoPlan) -> Outcome:
    """Take back `plan`'s commit with a new commit writing the bytes it replaced."""
    with pipeline.change(True) as ch:
        if pipeline.git is None or _head(pipeline.git) != plan.head:
            raise UsageError("not undoing: a commit was made meanwhile; run pipectl undo again")
        ch.force = True  # the deal as it was: lint flags what it lacks, as it did then
        from pipectl import crossing  # a move between pipelines writes back into both

        ch.also.extend(crossing.others(pipeline, plan.sha))
        for path, data in plan.files:
            if data is None:
                ch.delete(path)
            else:
                ch.write(path, data)
        ids = sorted({p.stem for p, _ in plan.files if p.suffix == ".md"})
        ch.set_message(
            f"undo: {plan.subject}",
            "undo",
            ids,
            trailers={"Undoes": plan.sha},
            shorten=True,
        )
    return Outcome(None, ch.committed, f"undid {plan.sha[:10]} ({plan.subject})")


def _mine(who: tuple[str | None, str | None], email: str, name: str) -> bool:
    name_now, email_now = who
    if email_now:
        return email.strip().lower() == email_now.strip().lower()
    return bool(name_now) and name.strip() == name_now


def _trailers(message: str) -> dict[str, str]:
    """The `Pipectl-KEY: value` lines of the message's last paragraph (where set_message
    puts them; a pasted trailer in a body paragraph is no trailer)."""
    last = message.rstrip("\n").rsplit("\n\n", 1)[-1]
    found: dict[str, str] = {}
    for line in last.split("\n"):
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Pipectl-") and value.strip():
            found.setdefault(key[len("Pipectl-") :], value.strip())
    return found


def _log(git: GitRepo, args: Sequence[str]) -> Iterator[tuple[str, list[str], str, str, str]]:
    out = git.run(
        ["log", f"-n{UNDO_DEPTH}", "-z", "--no-color", "--format=%H%n%P%n%ae%n%an%n%B", *args]
    ).stdout
    for entry in out.split("\0"):
        if not entry.strip():
            continue
        sha, parents, email, name, body = (entry.lstrip("\n").split("\n", 4) + [""] * 5)[:5]
        yield sha, parents.split(), email, name, body


def _touched(git: GitRepo, sha: str) -> list[str]:
    out = git.run(
        ["diff-tree", "--no-commit-id", "--no-renames", "-r", "-z", "--name-only", "--root", sha]
    ).stdout
    return [n for n in out.split("\0") if n]


def _later(git: GitRepo, sha: str, names: Sequence[str]) -> tuple[str, str] | None:
    """A commit after `sha` that touched one of `names`, other than an undo and the commit it
    undid, both since (they cancel out)."""
    if not names:
        return None
    found: list[tuple[str, list[str], str, str, str]] = []
    seen: set[str] = set()
    for at in range(0, len(names), PATHS_PER_CALL):  # an import's thousands: in chunks
        chunk = names[at : at + PATHS_PER_CALL]
        for entry in _log(git, ["--full-history", f"{sha}..HEAD", "--", *chunk]):
            if entry[0] not in seen:
                seen.add(entry[0])
                found.append(entry)
    undone = {_trailers(m).get("Undoes") for *_x, m in found}
    for other, _parents, _email, _name, message in found:
        if other in undone or _trailers(message).get("Undoes") in {f[0] for f in found}:
            continue
        return other, message.split("\n", 1)[0].strip()
    return None


def _blobs(git: GitRepo, rev: str | None, names: Sequence[str]) -> dict[str, bytes | None]:
    """Each file's bytes at `rev` (None: not there), in one `git cat-file --batch`."""
    if rev is None or not names:
        return dict.fromkeys(names)
    wanted = "".join(f"{rev}:{n}\n" for n in names).encode("utf-8")
    data = b"".join(git.stream(["cat-file", "--batch"], input_bytes=wanted))
    out: dict[str, bytes | None] = {}
    at = 0
    for name in names:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            out[name] = data[at : at + size]
            at += size + 1
        else:  # "<rev>:<name> missing"
            out[name] = None
    return out

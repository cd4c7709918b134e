"""A cold lint's rules shared with one forked process: the other core checks some of them.

Once every deal is loaded, the rules are a single-threaded second of a 12,500-deal cold run
while the other core waits, and so is reading when each file entered its folder (a cold
history walk, for PL302). A child forked with the loaded deals, which it shares with this
process page by page, reads the arrivals and runs the rules that ask for them and a share of
the others; it sends its findings back through a pipe as plain data (marshal of str, int,
None) and ends. This process runs the rest meanwhile. The findings are the same as one
process's, in the same order (tests/lint/test_forked.py); whatever goes wrong in the child,
its rules are run here instead. Never prints.
"""

from __future__ import annotations

import marshal
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any

from pipectl.lint.context import Context
from pipectl.lint.model import Finding, Rule

# Deals from which a second process pays: below, the fork and the findings' trip cost about
# what the rules do. Above the cap, none is forked: the child's copy-on-write pages of
# 100,000 deals (it touches every one) and the history walk it would hold cost more memory
# than the half second saved is worth (docs/performance.md, P2 and P6).
FORK_MIN = 2000
FORK_CAP = 40_000

# The rules that may ask when a deal entered its stage (Context.stage_entered): the child
# takes them, so that the history is read in one process only, and read there.
ARRIVAL_RULES = frozenset({"PL302", "PL604", "PL605"})

# What each rule costs, in ms per 10,000 deals of the benchmark pipeline (one cold run, each
# rule timed alone); a rule not listed counts as `_COST`. The child's share is chosen by it.
_COSTS = {
    "PL103": 115, "PL306": 38, "PL501": 35, "PL303": 35, "PL402": 34, "PL301": 28,
    "PL302": 26, "PL102": 26, "PL401": 26, "PL203": 23, "PL304": 10, "PL105": 10,
    "PL605": 10, "PL305": 8,
}  # fmt: skip
_COST = 4
# reading the arrivals when the history index is cold, in the same units (P2's 3,600 commits)
_ARRIVALS_COST = 260

Check = Callable[[Context, Rule], list[Finding]]

# a finding's fields as a tuple (`dataclasses.astuple` copies each value, deeply: 7 µs a finding)
_plain = attrgetter(*(f.name for f in fields(Finding)))


def possible(deals: int) -> bool:
    """Whether a run over this many deals may share its rules with a forked child here."""
    return (
        FORK_MIN <= deals < FORK_CAP
        and hasattr(os, "fork")
        # a fork copies only the thread that calls it: another thread's locks would stay
        # held in the child for ever (a language server's, a web server's)
        and threading.active_count() == 1
    )


def check(ctx: Context, chosen: Sequence[Rule], one: Check, arrivals: bool) -> list[Finding]:
    """`one(ctx, r)` of every rule, in `chosen`'s order, some of them from a forked child;
    `arrivals`: the child reads them (they are not read yet), which its share counts."""
    theirs, ours = split(chosen, len(ctx.deals), arrivals)
    if not theirs or not ours:
        return [f for r in chosen for f in one(ctx, r)]
    found: dict[str, list[Finding]] = {}
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(ctx, theirs, one, read_end, write_end)
    os.close(write_end)
    reaped = False
    try:
        for r in ours:
            found[r.code] = one(ctx, r)
        with open(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        reaped = True
        sent = _received(ctx, data) if status == 0 else None
    finally:
        if not reaped:  # interrupted here: the child is of no more use
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if sent is None or len(sent) != len(theirs):  # the child failed: its rules are run here
        sent = [one(ctx, r) for r in theirs]
    found.update(zip((r.code for r in theirs), sent, strict=True))
    return [f for r in chosen for f in found[r.code]]


def split(chosen: Sequence[Rule], deals: int, arrivals: bool) -> tuple[list[Rule], list[Rule]]:
    """(the child's rules, this process's): the arrival rules and, by cost, as many others
    as make both shares about even; the child's share includes reading the arrivals."""
    theirs = [r for r in chosen if r.code in ARRIVAL_RULES]
    load = sum(_COSTS.get(r.code, _COST) for r in theirs)
    if arrivals and theirs:
        load += _ARRIVALS_COST * 10_000 // max(deals, 1)  # the walk does not grow with deals
    others = sorted(
        (r for r in chosen if r.code not in ARRIVAL_RULES),
        key=lambda r: -_COSTS.get(r.code, _COST),
    )
    ours: list[Rule] = []
    mine = 0
    for r in others:  # the costliest first, each to the lighter share
        cost = _COSTS.get(r.code, _COST)
        if load < mine:
            theirs.append(r)
            load += cost
        else:
            ours.append(r)
            mine += cost
    return theirs, ours


def _child(ctx: Context, rules: list[Rule], one: Check, read_end: int, write_end: int) -> None:
    code = 1
    try:
        os.close(read_end)
        data = marshal.dumps([[_plain(f) for f in one(ctx, r)] for r in rules])
        with open(write_end, "wb") as pipe:
            pipe.write(data)
        code = 0
    finally:  # whatever happened: no cleanup of the parent's, no output, no return
        os._exit(code)


def _received(ctx: Context, data: bytes) -> list[list[Finding]] | None:
    """The child's findings, rule by rule; None when they are not what it sends."""
    try:
        rules = marshal.loads(data)
        texts = ctx._texts  # each path and message once, as the findings made here hold them
        out = []
        for found in rules:
            made = []
            for code, name, severity, path, line, column, message, *rest in found:
                path = texts.setdefault(path, path)
                message = texts.setdefault(message, message)
                made.append(Finding(code, name, severity, path, line, column, message, *rest))
            out.append(made)
        return out
    except Exception:
        return None


def apart(read: Callable[[], Any]) -> Any:
    """`read()` run in a child forked for it, its result (plain data, marshal) sent back: what
    it allocates on the way is given back when the child ends (a cold history walk for the
    arrivals of 100,000 files left ~170 MB of this process in use, under every deal loaded
    after it). None when the child failed or none could be forked: the caller reads it
    itself. Run alongside the load it cost more than it saved (three busy processes on two
    cores): this process waits for it."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            data = marshal.dumps(read())
            with open(write_end, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        with open(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        pid = -1
    finally:
        if pid > 0:  # interrupted here
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None

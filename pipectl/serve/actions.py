"""The changes a page asks for, each one operation of `pipectl.ops` (one commit, the CLI's
message and trailers), refused when the page was rendered from another version of the deal.

A refusal is a value (`Refused`) the app sends back with the fresh state; nothing here
knows HTTP. The server's writes are serialised by one lock; the clone's own lock (taken by
every operation) keeps out other writers.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipectl import dates, ops, schema
from pipectl.deal import DealText
from pipectl.errors import UsageError
from pipectl.serve.views import deal_version
from pipectl.store import DealRef, Pipeline

_WRITES = threading.Lock()


@dataclass  # not frozen: raising sets its __traceback__
class Refused(Exception):
    """A change not made: why, the fields a gate misses, the deal's version now."""

    message: str
    status: int = 409
    missing: tuple[str, ...] = ()
    version: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def _text(payload: Mapping[str, Any], key: str, required: bool = True) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        if required:
            raise Refused(f"{key} is required", 400)
        return None
    if not isinstance(value, str):
        raise Refused(f"{key} must be text", 400)
    return value


def _fresh(pipeline: Pipeline, payload: Mapping[str, Any]) -> str:
    """The deal's id, once its file is still the version the page showed."""
    ref_text = _text(payload, "deal")
    assert ref_text is not None
    ref = pipeline.resolve(ref_text)
    now = deal_version(pipeline.read_bytes(ref))
    if payload.get("version") != now:
        raise Refused(
            f"{ref.id} changed since this page was loaded: nothing was changed, here is "
            "the deal as it is now",
            version=now,
            extra={"stale": True, "stage": ref.stage},
        )
    return ref.id


class Pinned(Pipeline):
    """The pipeline with one deal pinned to the version the page showed: the operation's
    own read for its edit, made under the clone's lock, refuses any other version (a writer
    that came between the page's check and the lock changes nothing)."""

    def __init__(self, pipeline: Pipeline, deal_id: str, version: str):
        super().__init__(pipeline.root, pipeline.config)
        self.pinned = (deal_id, version)

    def read_text(self, ref: DealRef) -> DealText:
        text = super().read_text(ref)
        deal_id, version = self.pinned
        now = deal_version(self.read_for_edit[ref.path])
        if ref.id == deal_id and now != version:
            raise Refused(
                f"{deal_id} changed while this change waited: nothing was changed",
                version=now,
                extra={"stale": True, "stage": ref.stage},
            )
        return text


def apply(pipeline: Pipeline, action: str, payload: Mapping[str, Any]) -> ops.Outcome:
    """Run one change (`move`, `won`, `lost`, `log`, `next`, `task`, `set`) on the deal the
    page showed."""
    run = _ACTIONS.get(action)
    if run is None:
        raise Refused(f"unknown action {action!r}", 404)
    with _WRITES:
        deal_id = _fresh(pipeline, payload)
        pinned = Pinned(pipeline, deal_id, str(payload["version"]))
        try:
            return run(pinned, deal_id, payload)
        except UsageError as exc:
            raise Refused(str(exc), 400) from None


def _move(pipeline: Pipeline, deal_id: str, payload: Mapping[str, Any]) -> ops.Outcome:
    stage = _text(payload, "stage")
    assert stage is not None
    force = payload.get("force") is True
    target = pipeline.require_stage(stage)
    reason = _text(payload, "reason", required=False)
    try:
        return ops.move(
            pipeline, deal_id, target, when=dates.today(None), reason=reason, force=force
        )
    except UsageError as exc:
        # the gate `move` applies refused it: the fields it misses, for the page to list
        d = pipeline.read_deal(pipeline.resolve(deal_id))
        lacking = schema.for_config(pipeline.config).gate(d.fields, target)
        if force or not lacking:
            raise
        raise Refused(str(exc), 409, tuple(lacking), extra={"gate": target}) from None


def _close(kind: str) -> Any:
    def close(pipeline: Pipeline, deal_id: str, payload: Mapping[str, Any]) -> ops.Outcome:
        stage = ops.closing_stage(pipeline, kind)
        reason = _text(payload, "reason", required=False) if kind == "lost" else None
        return ops.move(pipeline, deal_id, stage, when=dates.today(None), reason=reason)

    return close


def _log(pipeline: Pipeline, deal_id: str, payload: Mapping[str, Any]) -> ops.Outcome:
    kind = _text(payload, "kind")
    summary = _text(payload, "summary")
    outcome = _text(payload, "outcome", required=False)
    assert kind is not None and summary is not None
    return ops.log(pipeline, deal_id, kind, summary, when=dates.today(None), outcome=outcome)


def _next(pipeline: Pipeline, deal_id: str, payload: Mapping[str, Any]) -> ops.Outcome:
    step = _text(payload, "step")
    assert step is not None
    due_text = _text(payload, "due", required=False)
    due = None if due_text is None else dates.parse_date(due_text, "due")
    return ops.next_step(pipeline, deal_id, step, due)


def _task(pipeline: Pipeline, deal_id: str, payload: Mapping[str, Any]) -> ops.Outcome:
    from pipectl.daily import tasks

    summary = _text(payload, "summary")
    due_text = _text(payload, "due")
    assert summary is not None and due_text is not None
    return tasks.add(pipeline, deal_id, summary, due=dates.parse_date(due_text, "due"))


def _set(pipeline: Pipeline, deal_id: str, payload: Mapping[str, Any]) -> ops.Outcome:
    """`pipectl set DEAL KEY=VALUE ...`: each value read and checked as the CLI reads it."""
    values = payload.get("values")
    if not isinstance(values, dict) or not values:
        raise Refused("nothing to set: change a field first", 400)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
        raise Refused("fields and values must be text", 400)
    unset = [k for k, v in values.items() if v == ""]
    words = [f"{k}={v}" for k, v in values.items() if v != ""]
    return ops.set_values(pipeline, deal_id, words, unset)


_ACTIONS = {
    "task": _task,
    "set": _set,
    "move": _move,
    "won": _close("won"),
    "lost": _close("lost"),
    "log": _log,
    "next": _next,
}

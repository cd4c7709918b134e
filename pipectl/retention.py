"""Retention: what the renewals of won deals came to, renewed or churned, apart from new
business (docs/accounts.md). A renewal is a deal with `renewal_of:` naming the won deal it
renews; lost, it is churn, never a lost new deal. Pure figures; never prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pipectl.config import Config
from pipectl.figures import Life, Money, is_renewal, num, value_of


@dataclass(frozen=True)
class Retention:
    """Renewals closed in the window: renewed (won) and churned (lost), their values, and
    gross retention = renewed value ÷ (renewed + churned value); the renewals still open."""

    renewed_count: int
    renewed_value: Money
    churned_count: int
    churned_value: Money
    gross_retention: float | None
    open_count: int
    open_value: Money


def retention(
    lives: Sequence[Life], config: Config, since: dt.date | None, until: dt.date | None
) -> Retention:
    def closed_in(lf: Life) -> bool:
        day = lf.closed
        if since is None and until is None:
            return True
        return (
            day is not None and (since is None or day >= since) and (until is None or day <= until)
        )

    renewals = [lf for lf in lives if is_renewal(lf.deal)]
    kinds = {s.name: s.closed for s in config.stages}
    renewed = [lf.deal for lf in renewals if kinds.get(lf.deal.stage) == "won" and closed_in(lf)]
    churned = [lf.deal for lf in renewals if kinds.get(lf.deal.stage) == "lost" and closed_in(lf)]
    still = [lf.deal for lf in renewals if lf.deal.stage in kinds and kinds[lf.deal.stage] is None]
    kept, gone = value_of(renewed) or 0, value_of(churned) or 0
    return Retention(
        renewed_count=len(renewed),
        renewed_value=num(kept),
        churned_count=len(churned),
        churned_value=num(gone),
        gross_retention=kept / (kept + gone) if kept + gone else None,
        open_count=len(still),
        open_value=value_of(still),
    )

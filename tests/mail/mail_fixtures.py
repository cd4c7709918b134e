"""A pipeline with a roster and deals whose people write mail, for the mail and calendar tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import git

TEAM = """
team:
  - {handle: alice, name: Alice Smith, emails: [alice@ourco.example]}
  - {handle: carol, name: Carol Jones, emails: [carol@ourco.example]}
"""

DEALS = {
    ("prospecting", "acme"): """---
title: Acme rollout
company: Acme
contact: Jane Doe <jane@acme.example>
owner: alice
value: 12000
created: 2026-11-01
next_step: Send pricing
next_step_due: 2026-12-04
expected_close: 2026-12-20
touchpoints:
  - {date: 2026-11-02, kind: call, summary: Discovery call, outcome: replied}
---
Notes about Acme.
""",
    ("qualifying", "globex"): """---
title: Globex pilot
company: Globex
owner: carol
value: 8000
created: 2026-11-01
contacts:
  - {name: Bob Stone, email: bob@globex.example, role: champion}
domains: [globex.example, globex.de]
expected_close: 2027-01-15
---
""",
    ("prospecting", "zed-consulting"): """---
title: Zed Consulting
contact: Zed <zed@gmail.com>
owner: alice
value: 1000
created: 2026-11-01
---
""",
    ("lost", "initech"): """---
title: Initech
contact: Peter <peter@initech.example>
owner: alice
value: 500
created: 2026-10-01
closed: 2026-10-20
lost_reason: no-budget
---
""",
}


def setup_sales(pipeline: Path, write_deal: Callable[..., Path]) -> Path:
    """The pipeline with the roster and the deals above, committed."""
    config = pipeline / "pipeline.yaml"
    config.write_text(config.read_text() + TEAM)
    for (stage, deal_id), text in DEALS.items():
        write_deal(pipeline, stage, deal_id, text)
    git(pipeline, "add", "-A")
    git(pipeline, "commit", "-q", "-m", "deals")
    return pipeline

"""The typer application: global options, the error boundary, and command registration.

Command modules register themselves on `app` when imported below; each keeps its heavy
imports inside the command functions so `pipectl --help` and `pipectl lint` start fast.
"""

from __future__ import annotations

from pipectl.cli.app import app, run

# Importing a command module registers its commands; order here is the order in --help.
from pipectl.cli import deals  # noqa: F401  isort: skip
from pipectl.cli import transfer  # noqa: F401  isort: skip
from pipectl.cli import reports  # noqa: F401  isort: skip
from pipectl.cli import changes  # noqa: F401  isort: skip
from pipectl.cli import lint  # noqa: F401  isort: skip
from pipectl.cli import team  # noqa: F401  isort: skip
from pipectl.cli import daily  # noqa: F401  isort: skip
from pipectl.cli import tasks  # noqa: F401  isort: skip
from pipectl.cli import rep  # noqa: F401  isort: skip
from pipectl.cli import mail  # noqa: F401  isort: skip
from pipectl.cli import records  # noqa: F401  isort: skip
from pipectl.cli import serve  # noqa: F401  isort: skip

__all__ = ["app", "run"]

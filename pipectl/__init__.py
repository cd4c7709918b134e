"""pipectl: a sales pipeline kept as plain text in a git repository.

This package's top level must stay import-cheap: `pipectl --version` reads only this file,
so the library face (`pipectl.open`, in api.py) is imported when it is first called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pipectl.version import __version__

if TYPE_CHECKING:
    from pipectl.api import OpenPipeline

__all__ = ["__version__", "open"]


def open(path: str | os.PathLike[str] = ".") -> OpenPipeline:
    """Open the pipeline at `path` (or the nearest folder above with a pipeline.yaml)."""
    from pipectl.api import open_pipeline

    return open_pipeline(path)

"""pipectl: a sales pipeline kept as plain text in a git repository.

This package's top level must stay import-cheap: `pipectl --version` reads only this file.
"""

from pipectl.version import __version__

__all__ = ["__version__"]

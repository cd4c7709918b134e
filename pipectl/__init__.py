"""pipectl: a sales pipeline kept as plain text in a git repository.

This package's top level must stay import-cheap: `pipectl --version` reads only this file.
"""

__version__ = "0.1.0"

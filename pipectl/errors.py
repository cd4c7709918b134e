"""The errors pipectl raises, each knowing its exit code.

The core raises these; one boundary in the CLI turns them into a one-line message and an exit.
Nothing here prints.
"""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_GIT = 3
EXIT_INTERNAL = 4  # a bug in pipectl, never a finding: CI must not read it as exit 1


class PipectlError(Exception):
    """An operation that cannot proceed; the message is for the user."""

    exit_code = EXIT_USAGE
    # shown on one line (a line break in a file name could forge a line of a CI log), unless
    # the message is several lines by design
    multiline = False

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = str(self.path) if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class UsageError(PipectlError):
    """A bad argument: unknown deal or stage, an id that exists, a bad date."""


class ConfigError(PipectlError):
    """pipeline.yaml is missing, malformed or holds a bad value."""


class DealError(PipectlError):
    """A deal file that cannot be read, parsed or safely edited."""


class GitError(PipectlError):
    """A git operation failed; the change was rolled back."""

    exit_code = EXIT_GIT


class LockError(PipectlError):
    """Another pipectl process holds the pipeline's lock for too long."""

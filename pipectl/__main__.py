"""Entry point for `pipectl` and `python -m pipectl`.

`--version` is answered before typer is imported: it must start as fast as a bare script.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):
        from pipectl.version import __version__

        sys.stdout.write(f"pipectl {__version__}\n")
        return 0
    from pipectl.cli import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())

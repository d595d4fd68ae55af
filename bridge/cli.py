"""The ``realtime-gateway`` command."""

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``realtime-gateway``; the gateway itself is not built yet (issue 4)."""
    print("realtime-gateway: not built yet (the gateway lands with issue #4)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""`ferry-connector source-NAME|destination-NAME COMMAND ...`: a built-in connector with Airbyte's CLI."""

from __future__ import annotations

import sys

from ferry.cdk.entrypoint import Connector, launch
from ferry.connectors import registry
from ferry.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sources = " ".join(f"source-{n}" for n in registry.names("source"))
        destinations = " ".join(f"destination-{n}" for n in registry.names("destination"))
        print(f"usage: ferry-connector CONNECTOR COMMAND [ARGS]\nconnectors: {sources} {destinations}")
        return 0 if args else 2
    kind, _, name = args[0].partition("-")
    connector: Connector
    try:
        if kind == "source":
            connector = registry.source(name)
        elif kind == "destination":
            connector = registry.destination(name)
        else:
            raise ConfigError(
                f"'{args[0]}' is not a connector name", hint="Use source-NAME or destination-NAME."
            )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return launch(connector, args[1:])


if __name__ == "__main__":
    sys.exit(main())

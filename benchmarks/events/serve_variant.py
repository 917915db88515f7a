"""Serve one benchmark variant's app factory as production serves the API.

``pipeline-events serve`` goes through :func:`events_api.serving.serve` (start-up frozen out of
the garbage collector's sight); the benchmark's variants, production's and the comparison
apps alike, are served the same way, with uvloop, httptools and no access log.

    python serve_variant.py MODULE:FACTORY --port PORT
"""

import argparse

import uvicorn

from events_api.serving import serve


def main() -> None:
    """Parse the factory and port, then serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("factory", help="MODULE:FACTORY, called without arguments")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    serve(
        uvicorn.Config(
            arguments.factory,
            factory=True,
            host="127.0.0.1",
            port=arguments.port,
            loop="uvloop",
            http="httptools",
            log_level="warning",
            access_log=False,
        )
    )


if __name__ == "__main__":
    main()

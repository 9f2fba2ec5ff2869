"""The start command of a packaged model: serve one bundle file, without a project or store.

``python -m loopml.serve._entry --bundle model.bundle [--name NAME] [--version N] [--host H]
[--port P]`` serves it at ``/v1/models/NAME/predict`` and ``/v2/models/NAME/infer``, with
``/health``, ``/ready`` and ``/metrics``.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from loopml.registry._registry import load_bundle
from loopml.serve._app import create_app
from loopml.serve._interfaces import LoadedModel, StaticResolver
from loopml.serve._server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--name", default="model")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    data = args.bundle.read_bytes()
    digest_file = args.bundle.with_name(args.bundle.name + ".sha256")
    # joblib must never load bytes that differ from the hash-verified registry artifact.
    if (
        not digest_file.is_file()
        or digest_file.read_text().strip() != hashlib.sha256(data).hexdigest()
    ):
        raise SystemExit(f"{args.bundle} does not match {digest_file.name}; refusing to load it.")
    bundle = load_bundle(data)
    model = LoadedModel(args.name, args.version, bundle)
    serve(create_app(StaticResolver({args.name: model})), host=args.host, port=args.port)


if __name__ == "__main__":
    main()

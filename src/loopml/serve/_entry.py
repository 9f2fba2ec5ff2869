"""The start command of a packaged model: serve one bundle file, without a project or store.

``python -m loopml.serve._entry --bundle model.bundle [--name NAME] [--version N] [--host H]
[--port P] [--background background.parquet] [--backend sklearn|onnx]`` serves it at
``/v1/models/NAME/predict`` and ``/v2/models/NAME/infer``, with ``/health``, ``/ready`` and
``/metrics``. Like ``loopml serve`` it loads the packaged holdout rows (``background.parquet``
beside the bundle, when present) as the explanation background of linear models
(``?explain=true``) and the rows the fast scoring path is verified on.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import pandas as pd

from loopml.registry._registry import load_bundle
from loopml.serve._app import create_app
from loopml.serve._compiled_predictor import BACKENDS
from loopml.serve._interfaces import LoadedModel, StaticResolver
from loopml.serve._package import BACKGROUND_FILE
from loopml.serve._server import serve
from loopml.train._bundle import ModelBundle


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--name", default="model")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--background",
        type=Path,
        default=None,
        help=f"Parquet rows of typical inputs (default: {BACKGROUND_FILE} beside the bundle).",
    )
    parser.add_argument("--backend", choices=BACKENDS, default="sklearn")
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
    background = _background(bundle, args.background or args.bundle.with_name(BACKGROUND_FILE))
    model = LoadedModel(
        args.name, args.version, bundle, background=background, backend=args.backend
    )
    serve(create_app(StaticResolver({args.name: model})), host=args.host, port=args.port)


def _background(bundle: ModelBundle, path: Path) -> pd.DataFrame | None:
    """The model's input columns of the rows in ``path`` (None when there is no such file)."""
    if not path.is_file():
        return None
    return bundle.features(pd.read_parquet(path))


if __name__ == "__main__":
    main()

"""The ``loopml`` command line (Typer + Rich)."""

from loopml.cli._app import app, main

__all__ = ["app", "main"]

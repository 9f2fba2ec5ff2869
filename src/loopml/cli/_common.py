"""What every command shares: options, the one error path, JSON output and progress bars."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loopml.errors import LoopmlError

ProjectOption = Annotated[
    Path,
    typer.Option("--project", "-p", help="Project folder (holds loopml.yaml).", show_default=False),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")
]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def configure_logging() -> None:
    """Show loopml's warnings (e.g. data that breaks the contract under the ``warn`` policy) on
    stderr, one readable line each; ``--debug`` adds the debug messages."""
    logger = logging.getLogger("loopml")
    if any(isinstance(h, RichHandler) for h in logger.handlers):
        return
    handler = RichHandler(console=err_console, show_time=False, show_path=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug_enabled() else logging.WARNING)
    logger.propagate = False


def debug_enabled() -> bool:
    return os.environ.get("LOOPML_DEBUG", "") not in ("", "0")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a LoopmlError into one clear line on stderr and its exit code (no traceback unless
    ``--debug``/``LOOPML_DEBUG=1``). Unexpected errors are reported as bugs, also in one line."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except LoopmlError as exc:
            if debug_enabled():
                raise
            err_console.print(f"[bold red]Error:[/] {exc.message}", markup=True, highlight=False)
            if exc.hint:
                err_console.print(f"[dim]{exc.hint}[/]", markup=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("Interrupted.")
            raise typer.Exit(130) from None
        except Exception as exc:
            if debug_enabled():
                raise
            err_console.print(
                f"[bold red]Unexpected error:[/] {type(exc).__name__}: {exc}",
                markup=True,
            )
            err_console.print(
                "[dim]This is a bug in loopml; rerun with --debug for the traceback.[/]"
            )
            raise typer.Exit(1) from None

    return wrapper


def print_json(payload: Any) -> None:
    """Write ``payload`` as one JSON document on stdout."""
    data = orjson.dumps(
        payload,
        option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
        default=str,
    )
    sys.stdout.write(data.decode() + "\n")
    sys.stdout.flush()


def say(message: str) -> None:
    """A human-readable line on stdout (suppressed by commands in --json mode)."""
    console.print(message, markup=True, highlight=False)


@contextmanager
def progress_bar(
    description: str, *, quiet: bool = False, known_total: bool = True
) -> Iterator[Callable[[str, float], None]]:
    """A Rich progress bar on stderr; yields ``update(step, fraction)``. With
    ``known_total=False`` the bar pulses and only ``step`` (e.g. a row count) changes. Hidden when
    stderr is not a terminal or ``quiet`` is set, so logs and --json output stay clean."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("[dim]{task.fields[step]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=1.0 if known_total else None, step="")

        def update(step: str, fraction: float) -> None:
            progress.update(task, completed=max(0.0, min(1.0, fraction)), step=step)

        yield update

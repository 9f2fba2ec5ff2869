"""The README's CLI reference, generated from the Typer app so it cannot drift from the code.

``python -m loopml.cli._reference README.md`` rewrites the block between the markers; the test
suite fails when the README's block differs from what this renders.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

START = "<!-- cli-reference:start -->"
END = "<!-- cli-reference:end -->"


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """Every command under ``command`` with its path (Typer's click-compatible objects)."""
    found = [(path, command)]
    if hasattr(command, "commands"):
        for name in command.commands:
            found.extend(_walk(command.commands[name], [*path, name]))
    return found


def _option_line(param: Any) -> str:
    if param.param_type_name == "argument":
        help_text = (getattr(param, "help", "") or "").strip()
        return f"- `{param.name.upper()}` (argument): {help_text}".rstrip(": ")
    names = ", ".join(f"`{n}`" for n in param.opts)
    if param.secondary_opts:
        names += " / " + ", ".join(f"`{n}`" for n in param.secondary_opts)
    text = (param.help or "").strip()
    if param.required:
        text += " **Required.**"
    return f"- {names}: {text}".rstrip(": ")


def render_reference(app: typer.Typer) -> str:
    """Markdown for every command: usage line, summary and options."""
    root = typer.main.get_command(app)
    lines: list[str] = []
    for path, command in _walk(root, ["loopml"]):
        is_group = hasattr(command, "commands")
        if is_group and len(path) == 1:
            continue
        title = " ".join(path)
        lines.append(f"#### `{title}`")
        lines.append("")
        summary = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        if summary:
            lines.append(summary)
            lines.append("")
        params = [p for p in command.params if p.name not in ("help",)]
        if is_group:
            subs = ", ".join(f"`{name}`" for name in command.commands)
            lines.append(f"Subcommands: {subs}.")
            lines.append("")
            continue
        lines.extend(_option_line(p) for p in params)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def update_readme(path: Path, app: typer.Typer) -> bool:
    """Rewrite the reference block of ``path``; returns whether it changed."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    updated = f"{head}{START}\n{render_reference(app)}{END}{tail}"
    if updated != text:
        path.write_text(updated, encoding="utf-8")
        return True
    return False


def readme_block(path: Path) -> str:
    """The current reference block of ``path`` (without markers)."""
    text = path.read_text(encoding="utf-8")
    return text.partition(START)[2].partition(END)[0].lstrip("\n")


if __name__ == "__main__":
    from loopml.cli import app as loopml_app

    changed = update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"), loopml_app)
    print("README reference updated" if changed else "README reference already up to date")

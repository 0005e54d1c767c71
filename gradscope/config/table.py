"""The README's table of run settings, generated from their declarations (a test checks that
the README holds it as generated, so that it cannot drift from the code)."""
from __future__ import annotations

from gradscope.config.declaration import GROUPS, Setting
from gradscope.config.run_config import SETTINGS, RunConfig

BEGIN = "<!-- settings table: generated from gradscope.config by `python -m gradscope.config.table --write README.md` -->"
END = "<!-- end of the settings table -->"


def _values(declaration: Setting) -> str:
    if declaration.choices:
        return " \\| ".join(f"`{choice}`" for choice in declaration.choices)
    if declaration.kind == "bool":
        return "flag"
    if declaration.path:
        return "a file"
    if declaration.kind == "str":
        return "text"
    span = declaration.describe_range()
    return span + (f" {declaration.unit}" if declaration.unit and span else "")


def _option(declaration: Setting) -> str:
    if declaration.name == "clip_mode":
        return "`--clip-norm X` or `--clip-value X`"
    if not declaration.option:
        return "(with clip-norm / clip-value)"
    return f"`{declaration.flag}`"


def settings_table() -> str:
    defaults = RunConfig()
    rows = ["| option | default | values | in the window | live | what it does |", "|---|---|---|---|---|---|"]
    for group in GROUPS:
        rows.append(f"| **{group}** | | | | | |")
        for name, declaration in SETTINGS.items():
            if declaration.group != group:
                continue
            default = getattr(defaults, name)
            shown = "none" if default is None else (f"`{default}`" if not isinstance(default, bool)
                                                    else ("on" if default else "off"))
            tip = declaration.tip.replace("|", "\\|")
            rows.append(f"| {_option(declaration)} | {shown} | {_values(declaration)} | "
                        f"{declaration.label if declaration.window else 'no'} | {'yes' if declaration.live else ''} | "
                        f"{tip} |")
    return "\n".join([BEGIN, *rows, END])


def write_into(path) -> None:
    """Replace the table between its markers in the file at `path` (the README)."""
    from pathlib import Path

    text = Path(path).read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    Path(path).write_text(text[:start] + settings_table() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        write_into(sys.argv[2])
    else:
        print(settings_table())

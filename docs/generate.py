"""Pages generated at build time (docs/conf.py calls :func:`write_all`): the command line from the
argument parser, the sweep spec's keys from the spec loader and the setups' declarations. Nothing in
them is typed by hand, so they cannot drift from the code; tests/test_docs.py checks that every option
and key has its description."""
from __future__ import annotations

import argparse
from pathlib import Path


def _rst_escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("*", "\\*").replace("`", "'").replace("|", "\\|")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    from theorysim import cli

    parser = cli._parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def options(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]


def cli_page() -> str:
    from theorysim import cli

    lines = []
    parser = cli._parser()
    helps = {a.dest: a for a in parser._actions if isinstance(a, argparse._SubParsersAction)}
    sub_help = {c.dest: c.help for action in helps.values() for c in action._choices_actions}
    for name, sub in subcommands().items():
        title = f"theorysim {name}"
        lines += [title, "-" * len(title), "", _rst_escape(sub_help.get(name, "")), ""]
        for a in options(sub):
            flag = ", ".join(a.option_strings) or (a.metavar or a.dest)
            if a.option_strings and a.nargs != 0:
                flag += f" {a.metavar or a.dest.upper()}"
            text = a.help or ""
            if a.choices:
                text += f" (choices: {', '.join(map(str, a.choices))})"
            if a.option_strings and a.default not in (None, False, [], argparse.SUPPRESS) and a.nargs != 0:
                text += f" (default: {a.default})"
            lines += [f"``{flag}``", f"   {_rst_escape(text)}", ""]
    return "\n".join(lines) + "\n"


def sweep_keys_page() -> str:
    from theorysim import setups
    from theorysim.optim import registry
    from theorysim.sweep import builders, spec

    lines = ["The keys of a spec", "^^^^^^^^^^^^^^^^^^", "", "Top level and ``[record]``:", ""]
    for key in (*spec.TOP_KEYS, *(f"record.{k}" for k in spec.RECORD_KEYS)):
        lines += [f"``{key}``", f"   {_rst_escape(spec.KEY_DOCS[key])}", ""]
    lines += ["Engine keys of ``[experiment]`` (also axes):", ""]
    for key, default in builders.ENGINE_KEYS.items():
        lines += [f"``{key}`` (default: {default})", f"   {_rst_escape(builders.ENGINE_KEY_DOCS[key])}", ""]
    lines += ["Each sweep setup's keys (``setup = NAME``), with defaults, bounds and choices, and the model's "
              "per-member hyperparameters (``model.NAME`` where an optimizer has a key of the same name):", ""]
    for name, decl in sorted(setups.sweep_setups().items()):
        lines += [f"``setup = \"{name}\"``", f"   {_rst_escape(decl.doc)}", ""]
        for key, default in decl.keys.items():
            extra = []
            if key in decl.choices:
                extra.append("one of " + ", ".join(map(repr, decl.choices[key])))
            if key in decl.bounds:
                extra.append(_rst_escape(str(decl.bounds[key])))
            lines += [f"   - ``{key}`` = {_rst_escape(repr(default))}" + (f": {'; '.join(extra)}" if extra else "")]
        for key in decl.hyper_names:
            lines += [f"   - ``{key}`` (model hyperparameter)"]
        lines += [""]
    lines += ["Optimizer keys (``optimizer = NAME``; ``optim.KEY`` where the model has a key of the same name), "
              "with their defaults:", ""]
    for name in registry.names():
        s = registry.get(name)
        lines += [f"``{name}``", "   " + ", ".join(f"``{k}`` = {_rst_escape(repr(v))}" for k, v in s.defaults.items()),
                  ""]
    return "\n".join(lines) + "\n"


def write_all(folder) -> None:
    folder = Path(folder)
    folder.mkdir(exist_ok=True)
    for name, text in (("cli.rst", cli_page()), ("sweep_keys.rst", sweep_keys_page())):
        path = folder / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)

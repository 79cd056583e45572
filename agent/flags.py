"""Command-line parsing shared by ``screenwise`` and the training scripts it hands over to.

- :class:`Parser` reports bad input as one line on stderr and exit code 2: no usage block, no traceback.
- :func:`field_help` reads the docstring under each field of a config dataclass (``Args``), so that a script
  whose flags are built from its ``Args`` has help text that cannot drift from the field's documentation.
- :func:`add_fields` makes those flags, one argparse group per dataclass.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
import sys
import textwrap


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors take one line. Subparsers are made of the same class."""

    def error(self, message: str):
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def field_help(cls: type) -> dict[str, str]:
    """``{field name: first sentence of its docstring}`` for a dataclass whose fields carry docstrings.

    Python keeps no attribute docstrings at run time, so they are read from the class's source. A field without
    one is absent from the result. ``%`` is doubled: argparse formats help strings.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs = {}
    for node, after in zip(body, body[1:]):
        is_doc = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) \
            and isinstance(after.value.value, str)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and is_doc:
            text = " ".join(after.value.value.split())
            # the first sentence: a period followed by a space and a capital ("e.g. x" does not end one)
            docs[node.target.id] = re.split(r"(?<=\.)\s+(?=[A-Z])", text, maxsplit=1)[0].replace("%", "%%")
    return docs


def add_fields(parser, cls: type, **special: dict) -> None:
    """One flag per field that ``cls`` declares itself (``--name-with-dashes``), typed by its annotation, with the
    field's default and its docstring's first sentence as help (``field_help``): a bool is a ``--x``/``--no-x``
    pair, a list takes one or more values. ``special`` maps a field name to add_argument keywords of its own.
    ``parser`` may be an argument group, so that ``--help`` shows each dataclass as a group of its own."""
    helps, own = field_help(cls), cls.__dict__.get("__annotations__", {})
    for f in dataclasses.fields(cls):
        if f.name not in own:
            continue
        flag = f"--{f.name.replace('_', '-')}"
        if f.name in special:
            parser.add_argument(flag, default=f.default, **special[f.name])
        elif f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default,
                                help=f"{helps[f.name]} (default: %(default)s)")
        elif f.type.startswith("list"):
            parser.add_argument(flag, nargs="+", default=f.default_factory(), help=helps[f.name])
        else:
            parser.add_argument(flag, type={"int": int, "float": float, "str": str}[f.type], default=f.default,
                                help=f"{helps[f.name]} (default: %(default)s)")

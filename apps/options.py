"""Command-line options several ``screenwise`` commands share: the model's card, the safety policy, a viewport,
a port. The commands' parsers (apps/cli.py, and apps/chat.py for ``chat``, whose options the web UI reuses)
add them from here."""

from __future__ import annotations

import argparse


def viewport(text: str) -> tuple[int, int]:
    """``--viewport WxH`` as (width, height)."""
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1024x768")
    return int(width), int(height)


def port(text: str) -> int:
    """``--port N``: a TCP port, 0 for any free one."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0-65535)")
    return int(text)


def card_overrides(args: argparse.Namespace) -> dict:
    """What ``models.resolve`` takes besides the spec, from ``add_card_args``'s flags (only those given)."""
    given = {k: getattr(args, k, None) for k in ("card", "prompt", "coord_space", "element_refs", "constrain_reply")}
    return {k: v for k, v in given.items() if v is not None}


def add_card_args(parser: argparse.ArgumentParser) -> None:
    """How to prompt the model, when its card (checkpoint, /v1/models) is missing or wrong (models/card.py)."""
    parser.add_argument("--card", default=None, metavar="FILE", help="a card file replacing the model's own")
    parser.add_argument("--prompt", default=None, choices=["uitars", "compact"], help="override the card's prompt")
    parser.add_argument("--coord-space", default=None, choices=["pixels", "qwen25", "relative1000"],
                        help="override how the model writes coordinates")
    parser.add_argument("--element-refs", default=None, action=argparse.BooleanOptionalAction,
                        help="show the model the element list (override the card)")
    parser.add_argument("--constrain-reply", default=None, action=argparse.BooleanOptionalAction,
                        help="hold every reply to the whole-reply pattern in-process (override the card)")


def add_safety_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-domains", default=None, metavar="A,B",
                        help="sites navigation may reach (a.com also allows www.a.com; file pages are always "
                             "allowed); default: anywhere")
    parser.add_argument("--secrets", default=None, metavar="FILE",
                        help='JSON {"name": "value"} or {"name": {"value": ..., "domains": [...]}}; the instruction '
                             "says {{secret:name}}; SCREENWISE_SECRET_<NAME> variables work too")

"""`--smoke`: a bench script runs once at a tiny size, so CI can run every script and none rots.

The figures of a smoke run mean nothing; what it proves is that the script still builds its
data, signs in, measures and prints with the code as it is now (tests/test_bench_smoke.py).
"""

from __future__ import annotations

import argparse


def flag(parser: argparse.ArgumentParser, **tiny) -> None:
    """Add --smoke, which replaces the named options' values by these tiny ones."""
    parser.add_argument("--smoke", action="store_true",
                        help="run once at a tiny size (" + ", ".join(f"{k}={v}" for k, v in tiny.items()) + ")")
    parser.set_defaults(smoke_sizes=tiny)


def parse(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in args.smoke_sizes.items():
            setattr(args, name, value)
    return args

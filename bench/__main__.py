"""Run the benchmarks: every ``bench_*.py`` module beside this file, or the ones named."""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path


def main() -> int:
    """Discover and run benchmarks in name order; ``--quick`` shrinks datasets for a smoke run."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="e.g. zoning intake (default: all)")
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    parser.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="N inspections, built once into a kept PostgreSQL database and reused "
        "(benchmarks that support it: zoning)",
    )
    args = parser.parse_args()
    here = Path(__file__).resolve().parent
    available = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )
    unknown = set(args.names) - set(available)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; available: {available}")
    for name in args.names or available:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        options = {"quick": args.quick}
        if args.scale:
            if "scale" not in inspect.signature(module.main).parameters:
                print(f"--- {name}: no --scale, skipped", flush=True)
                continue
            options["scale"] = args.scale
        module.main(**options)
        print(f"--- {name}: {time.perf_counter() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

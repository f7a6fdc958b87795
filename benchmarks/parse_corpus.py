"""The baseline of the benchmark: parse every file of a corpus with LibCST, nothing
else, over the same files and with the same process pool as `orm-modernize check`.

    python benchmarks/parse_corpus.py DIR [--jobs N]
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def parse(path: Path) -> bool:
    import libcst

    try:
        libcst.parse_module(path.read_bytes())
    except Exception:  # a file of the corpus that LibCST cannot parse
        return False
    return True


def main() -> None:
    from orm_modernize.workspace.files import discover

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    files, _ = discover(args.paths)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        chunk = max(1, len(files) // (args.jobs * 8))
        parsed = sum(pool.map(parse, files, chunksize=chunk))
    print(f"parsed {parsed} of {len(files)} files")


if __name__ == "__main__":
    main()

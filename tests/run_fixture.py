"""Run one fixture program as `__main__`, the way the tests compare them.

`strict` is for rewritten code on SQLAlchemy 2.x: every SQLAlchemy deprecation and
SAWarning becomes an error. The filters are installed here, in code, because
`-W error::sqlalchemy.exc.SAWarning` on the command line is silently ignored.
"""

from __future__ import annotations

import runpy
import sys
import warnings
from pathlib import Path


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    # Fixture programs share fixtures/_models.py.
    sys.path.insert(0, str(Path(path).resolve().parent.parent))
    import sqlalchemy.exc

    if mode == "strict":
        warnings.filterwarnings("error", category=sqlalchemy.exc.SADeprecationWarning)
        warnings.filterwarnings("error", category=sqlalchemy.exc.SAWarning)
    runpy.run_path(path, run_name="__main__")


main()

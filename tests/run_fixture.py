"""Run one fixture program as `__main__`, the way the tests compare them.

`strict` is for rewritten code on SQLAlchemy 2.x: every SQLAlchemy deprecation and
SAWarning becomes an error. The filters are installed here, in code, because
`-W error::sqlalchemy.exc.SAWarning` on the command line is silently ignored.
"""

from __future__ import annotations

import runpy
import sys
import warnings


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    import sqlalchemy.exc

    if mode == "strict":
        warnings.filterwarnings("error", category=sqlalchemy.exc.SADeprecationWarning)
        warnings.filterwarnings("error", category=sqlalchemy.exc.SAWarning)
    runpy.run_path(path, run_name="__main__")


main()

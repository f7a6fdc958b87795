"""Write src/orm_modernize/analysis/star_imports.py: run it under SQLAlchemy 1.4
(the suite's .fixture-envs/sqlalchemy-1.4.54/bin/python), from the checkout."""

import textwrap
import warnings
from pathlib import Path

MODULES = [
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.sql",
    "sqlalchemy.sql.expression",
    "sqlalchemy.schema",
    "sqlalchemy.types",
    "sqlalchemy.engine",
    "sqlalchemy.ext.declarative",
]
HEADER = '''"""What `from <module> import *` binds, for the SQLAlchemy modules code
imports that way: the public names of SQLAlchemy 1.4.54 (what users migrate from), read
once from it and kept here as data, since the tool never imports SQLAlchemy.
Regenerate with `scripts/star_names.py` under SQLAlchemy 1.4."""

from __future__ import annotations

'''

warnings.simplefilter("ignore")
lines = [HEADER.rstrip("\n")]
constants = {}
for module in MODULES:
    bound: dict[str, object] = {}
    exec(f"from {module} import *", bound)
    names = " ".join(sorted(n for n in bound if not n.startswith("_")))
    constant = "_" + module.replace(".", "_").upper()
    constants[module] = constant
    lines += ["", f'{constant} = """']
    lines += [f"    {line}" for line in textwrap.wrap(names, 80)]
    lines += ['"""']
lines += ["", "STAR_NAMES: dict[str, frozenset[str]] = {"]
lines += [f'    "{m}": frozenset({c}.split()),' for m, c in constants.items()]
lines.append("}")
target = Path(__file__).parent.parent / "src/orm_modernize/analysis/star_imports.py"
target.write_text("\n".join(lines) + "\n")

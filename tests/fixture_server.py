"""Run fixture programs for the tests, one forked child per program.

Started once per test worker and SQLAlchemy environment, this process imports
SQLAlchemy and Flask-SQLAlchemy once; each program then runs in a fork of it: a
fresh `__main__`, fresh modules of its own (`_models`, a project's packages), a
fresh registry and fresh warning filters, exactly as `run_fixture.py` runs it in a
new interpreter, without paying the imports again (they were most of a fixture
test's time).

By hand: `python tests/fixture_server.py strict|legacy PATH`. For the tests
(conftest.run_program): one JSON line per request on stdin, `{"mode": "strict"
| "legacy", "path": ...}`; one JSON line per answer on stdout, `{"returncode",
"stdout", "stderr", "lines"}` (the program's lines that ran).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import sys
import tempfile
import traceback
import warnings

TIMEOUT = 120  # seconds a program may run, as run_program's subprocess allows


def preload() -> None:
    """What most programs import. A warning raised here would be lost to the
    programs' strict filters (it is raised once per process), so there must be none."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import sqlalchemy.exc
        import sqlalchemy.orm  # noqa: F401

        # An environment without Flask runs plain programs.
        with contextlib.suppress(ImportError):
            import flask_sqlalchemy  # noqa: F401
    if caught:
        raise SystemExit(f"fixture_server: importing warned: {caught[0].message}")


def run_child(mode: str, path: str, out: int, err: int, lines: int) -> None:
    """In the forked child: run the program as run_fixture.py would, then exit,
    having written to `lines` the numbers of the program's lines that ran."""
    os.dup2(out, 1)
    os.dup2(err, 2)
    ran = trace_lines(os.path.abspath(path))
    signal.alarm(TIMEOUT)
    code = 0
    try:
        os.chdir(os.path.dirname(path))
        # Fixture programs share fixtures/_models.py.
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(path))))
        import runpy

        import sqlalchemy.exc

        if mode == "strict":
            warnings.filterwarnings(
                "error", category=sqlalchemy.exc.SADeprecationWarning
            )
            warnings.filterwarnings("error", category=sqlalchemy.exc.SAWarning)
            # 1.4 cascades along backrefs still, and says so, where the fixed
            # code adds the object itself, as 2.0 wants (ORM102): not a 1.x idiom
            # of the code, and 2.1 runs the same code without the cascade.
            warnings.filterwarnings(
                "ignore", message=".* along the backref cascade path "
            )
        runpy.run_path(path, run_name="__main__")
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.settrace(None)
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
            os.write(lines, " ".join(map(str, sorted(ran))).encode())
        finally:
            os._exit(code)


def trace_lines(filename: str) -> set[int]:
    """Record the lines of `filename` that run, from now on (frames of other
    files are not traced line by line)."""
    ran: set[int] = set()

    def local(frame, event, arg):  # type: ignore[no-untyped-def]
        if event == "line":
            ran.add(frame.f_lineno)
        return local

    def calls(frame, event, arg):  # type: ignore[no-untyped-def]
        if frame.f_code.co_filename == filename:
            ran.add(frame.f_lineno)
            return local
        return None

    sys.settrace(calls)
    return ran


def answer(mode: str, path: str) -> dict[str, object]:
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as lines,
    ):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            run_child(mode, path, out.fileno(), err.fileno(), lines.fileno())
        _, status = os.waitpid(pid, 0)
        texts = []
        for stream in (out, err, lines):
            stream.seek(0)
            texts.append(stream.read().decode("utf-8", "replace"))
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "stdout": texts[0],
        "stderr": texts[1],
        "lines": [int(n) for n in texts[2].split()],
    }


def main() -> None:
    preload()
    if len(sys.argv) == 3:  # by hand: `python tests/fixture_server.py strict PATH`
        reply = answer(sys.argv[1], os.path.abspath(sys.argv[2]))
        sys.stdout.write(str(reply["stdout"]))
        sys.stderr.write(str(reply["stderr"]))
        raise SystemExit(reply["returncode"])
    for line in sys.stdin:
        request = json.loads(line)
        reply = answer(request["mode"], request["path"])
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

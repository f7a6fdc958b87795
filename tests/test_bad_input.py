"""Bad input: each file is reported on one line with its path and a non-zero exit,
left byte for byte as it was, and the rest of the run goes on; what is valid but
unusual (encodings, line endings, new syntax) is fixed with its bytes kept.

The real CLI runs in a subprocess for bad files: some of them crash LibCST's
native parser with SIGSEGV, which would take pytest down with it. Valid files are
checked in this process, which is faster.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from orm_modernize.cli.commands import main

LEGACY_IMPORT = b"from sqlalchemy.ext.declarative import declarative_base\n"
MODERN_IMPORT = b"from sqlalchemy.orm import declarative_base\n"
# Every bad file is checked next to this one, which must still be fixed.
GOOD = LEGACY_IMPORT + b"\nBase = declarative_base()\n"


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orm_modernize", "check", "--isolated", "--no-cache"]
        + [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def nested(opening: str, closing: str, depth: int) -> bytes:
    return LEGACY_IMPORT + f"x = {opening * depth}1{closing * depth}\n".encode()


# name -> (the file's bytes, the start of the one error line after "bad.py: ")
REFUSED: dict[str, tuple[bytes, str]] = {
    "syntax-error": (LEGACY_IMPORT + b"def f(:\n    pass\n", "cannot parse: "),
    # CPython's reason, which says more than LibCST's "expected one of ...".
    "python-2": (
        LEGACY_IMPORT + b'print "hello"\nexec "x = 1"\n',
        "cannot parse: Missing parentheses in call to 'print'.",
    ),
    "latin-1-without-cookie": (b"# caf\xe9\n" + LEGACY_IMPORT, "cannot parse: "),
    "undecodable-bytes": (LEGACY_IMPORT + b"x = '\xff\xfe\xc3'\n", "cannot parse: "),
    "nul-byte": (LEGACY_IMPORT + b"x = 1\x00\n", "cannot parse: "),
    # Parsed by CPython's grammar, refused by its compiler (found by fuzzing: it
    # was taken for a newer syntax and fixed).
    "return-outside-function": (
        LEGACY_IMPORT + b"return 1\n",
        "cannot parse: 'return' outside function",
    ),
    # CPython refuses more than 200 brackets; LibCST's parser overflows its stack
    # near 2,000 and kills the process.
    "3000-parentheses": (nested("(", ")", 3000), "cannot parse: too many nested"),
    "3000-lists": (nested("[", "]", 3000), "cannot parse: too many nested"),
    # A chain of operators is as deep a tree: LibCST overflows near 10,000.
    "50000-additions": (
        LEGACY_IMPORT + b"x = " + b" + ".join([b"1"] * 50_000) + b"\n",
        "nested too deeply",
    ),
    "20000-attributes": (
        LEGACY_IMPORT + b"x = a" + b".b" * 20_000 + b"\n",
        "nested too deeply",
    ),
}


@pytest.mark.parametrize("content,error", REFUSED.values(), ids=REFUSED.keys())
def test_a_file_that_cannot_be_parsed_is_reported_and_left_alone(
    tmp_path: Path, content: bytes, error: str
) -> None:
    (tmp_path / "bad.py").write_bytes(content)
    (tmp_path / "good.py").write_bytes(GOOD)

    done = run("--fix", ".", cwd=tmp_path)

    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("bad.py")]
    assert len(lines) == 1 and lines[0].startswith(f"bad.py: {error}"), done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "bad.py").read_bytes() == content
    assert (tmp_path / "good.py").read_bytes().startswith(MODERN_IMPORT)


def test_a_statement_too_deep_to_print_is_kept_as_it_was(tmp_path: Path) -> None:
    # CPython compiles 1,000 calls in a row; printing them, LibCST's Python side
    # exceeds the recursion limit. The fix of another statement does not print
    # this one: it is kept byte for byte, so `check` and `--fix` agree.
    deep = b"x = f" + b"()" * 1_000 + b"\n"
    (tmp_path / "deep.py").write_bytes(LEGACY_IMPORT + deep)

    done = run("--fix", "deep.py", cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "deep.py").read_bytes() == MODERN_IMPORT + deep


def _fixed_keeping(*kept: bytes) -> Callable[[bytes, bytes], None]:
    def check(before: bytes, after: bytes) -> None:
        assert after != before and b"sqlalchemy.orm import" in after
        for part in kept:
            assert after.count(part) == before.count(part), part

    return check


def _crlf_everywhere(before: bytes, after: bytes) -> None:
    assert b"sqlalchemy.orm import" in after
    assert after.count(b"\n") == after.count(b"\r\n") == before.count(b"\r\n")


def _unchanged(before: bytes, after: bytes) -> None:
    assert after == before


PYTHON_312 = (
    LEGACY_IMPORT + b"type Pair = tuple[int, int]\n\n\n"
    b"def first[T](items: list[T]) -> T:\n    return items[0]\n\n\n"
    b'label = f"{f"{first([1])}"!r}"\n'
)
PYTHON_314 = (
    LEGACY_IMPORT + b"def f[T = int](x: T) -> T:\n    return x\n\n\n"  # 3.13
    b"class A[*Ts = *tuple[int]]:\n    pass\n\n\n"
    b"try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"  # 3.14
    b'greeting = t"hello {A}"\n'
)
# name -> (the file's bytes, what the fix must keep)
KEPT: dict[str, tuple[bytes, Callable[[bytes, bytes], None]]] = {
    "latin-1-with-cookie": (
        b"# -*- coding: latin-1 -*-\n# caf\xe9 cr\xe8me\n" + GOOD,
        _fixed_keeping(b"caf\xe9 cr\xe8me", b"coding: latin-1"),
    ),
    "utf-8-bom": (b"\xef\xbb\xbf" + GOOD, _fixed_keeping(b"\xef\xbb\xbf")),
    "crlf": (GOOD.replace(b"\n", b"\r\n"), _crlf_everywhere),
    "mixed-line-endings": (
        GOOD.replace(b"\n", b"\r\n", 1) + b"x = 1\r\ny = 2\n",
        _fixed_keeping(b"\r\n", b"y = 2\n"),
    ),
    "tabs-and-form-feeds": (
        GOOD + b"\x0c\nclass A:\n\tx = 1\n\tif x:\n\t\ty = 2\n",
        _fixed_keeping(b"\x0c", b"\tx = 1", b"\t\ty = 2"),
    ),
    "empty": (b"", _unchanged),
    # compile() warns about these on stderr; a linter must not.
    "code-python-warns-about": (
        GOOD + b'x = [1]()\nassert (x, "always true")\nif x is 1:\n    y = "\\d"\n',
        _fixed_keeping(b"[1]()", b'"\\d"'),
    ),
    "python-3.12-syntax": (PYTHON_312, _fixed_keeping(b"type Pair", b"[T]", b'f"{f"')),
    "python-3.13-3.14-syntax": (
        PYTHON_314,
        _fixed_keeping(b"[T = int]", b"[*Ts = *tuple[int]]", b"ValueError, ", b't"'),
    ),
}


def run_here(*args: str) -> Result:
    """The CLI in this process, for valid files (no parser can crash on them),
    with every warning shown: one that compile() gives about the user's code
    (`x is 1`) would be printed at most once per process by default."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        return CliRunner().invoke(
            main, ["check", "--isolated", "--no-cache", "--jobs", "1", *args]
        )


@pytest.mark.parametrize("content,check", KEPT.values(), ids=KEPT.keys())
def test_unusual_but_valid_files_are_fixed_with_their_bytes_kept(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    check: Callable[[bytes, bytes], None],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd.py").write_bytes(content)
    (tmp_path / "good.py").write_bytes(GOOD)

    done = run_here("--fix", ".")

    assert done.exit_code in (0, 1) and not done.stderr.count(":"), done.output
    check(content, (tmp_path / "odd.py").read_bytes())
    assert (tmp_path / "good.py").read_bytes().startswith(MODERN_IMPORT)
    assert run_here(".", "--select", "ORM401").exit_code == 0


def test_paths_that_are_not_readable_files(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_bytes(GOOD)
    (tmp_path / "broken.py").symlink_to(tmp_path / "nowhere.py")
    (tmp_path / "loop_a.py").symlink_to(tmp_path / "loop_b.py")
    (tmp_path / "loop_b.py").symlink_to(tmp_path / "loop_a.py")
    os.mkfifo(tmp_path / "pipe.py")  # reading it would wait forever
    (tmp_path / "folder.py").mkdir()  # a directory is walked, not read
    # A regular file whose read fails (EIO), even for root: the reader's own memory.
    memory = Path("/proc/self/mem")
    if memory.exists():  # Linux
        (tmp_path / "memory.py").symlink_to(memory)

    done = run("--fix", ".", "missing.py", cwd=tmp_path)

    assert done.returncode == 2
    errors = sorted(line for line in done.stderr.splitlines() if ": " in line)
    expected = [
        "broken.py: cannot read: No such file or directory",
        "loop_a.py: cannot read: Too many levels of symbolic links",
        "loop_b.py: cannot read: Too many levels of symbolic links",
        "missing.py: no such file or directory",
        "pipe.py: cannot read: not a regular file",
    ]
    if memory.exists():
        expected.append("memory.py: cannot read: Input/output error")
    assert errors == sorted(expected), done.stderr
    assert (tmp_path / "good.py").read_bytes().startswith(MODERN_IMPORT)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_bytes(GOOD)
    secret.chmod(0)
    done = run(".", cwd=tmp_path)
    assert done.returncode == 2
    assert "secret.py: cannot read: Permission denied" in done.stderr


def test_a_read_only_file_is_reported_not_rewritten(tmp_path: Path) -> None:
    """Replacing it would succeed, since the directory permits it, but its owner
    made it read-only."""
    locked = tmp_path / "locked.py"
    locked.write_bytes(GOOD)
    locked.chmod(0o444)
    (tmp_path / "good.py").write_bytes(GOOD)

    done = run("--fix", ".", cwd=tmp_path)

    assert done.returncode == 2
    assert "locked.py: cannot write: the file is read-only" in done.stderr
    assert locked.read_bytes() == GOOD and locked.stat().st_mode & 0o777 == 0o444
    assert (tmp_path / "good.py").read_bytes().startswith(MODERN_IMPORT)


def test_a_full_disk_leaves_the_file_whole(tmp_path: Path) -> None:
    """A file size limit makes the write fail part way, as a full disk would."""
    import resource
    import signal

    big = GOOD + b"# padding\n" * 2_000
    (tmp_path / "big.py").write_bytes(big)

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run(
        [sys.executable, "-m", "orm_modernize", "check", "--isolated", "--no-cache"]
        + ["--fix", "big.py"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        preexec_fn=limited,
    )

    assert done.returncode == 2, done.stderr
    assert "big.py: cannot write: File too large" in done.stderr
    assert (tmp_path / "big.py").read_bytes() == big
    assert [p.name for p in tmp_path.iterdir()] == ["big.py"]  # no temporary left


@pytest.mark.slow(35)
def test_a_5_megabyte_module(tmp_path: Path) -> None:
    model = (
        "class Model{n}(Base):\n"
        '    __tablename__ = "table_{n}"\n'
        "    id = Column(Integer, primary_key=True)\n"
        "    name = Column(String(50), nullable=False)\n\n\n"
    )
    header = LEGACY_IMPORT + b"from sqlalchemy import Column, Integer, String\n\n"
    body = "".join(model.format(n=n) for n in range(35_000)).encode()
    generated = header + b"Base = declarative_base()\n\n\n" + body
    assert len(generated) > 5_000_000
    (tmp_path / "generated.py").write_bytes(generated)

    # Checked, not fixed: a fix parses it again, and the suite has a time budget.
    done = run("generated.py", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("generated.py:1:1: ORM401 "), done.stdout


def test_a_directory_of_20000_modules(tmp_path: Path) -> None:
    for n in range(20_000):
        (tmp_path / f"m{n}.py").write_bytes(b"x = 1\n")
    (tmp_path / "m19999.py").write_bytes(GOOD)

    done = run("--fix", ".", cwd=tmp_path)

    assert done.returncode == 1, done.stderr  # ORM402 has no safe fix
    assert (tmp_path / "m19999.py").read_bytes().startswith(MODERN_IMPORT)
    assert (tmp_path / "m0.py").read_bytes() == b"x = 1\n"

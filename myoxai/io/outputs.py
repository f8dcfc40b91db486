"""Writing outputs without ever destroying a file: one helper shared by every command that writes.

The rules (issue 11): an existing path is refused unless the user passed ``--overwrite``; a path
that is also one of the command's inputs is refused even then; the content goes to a temporary
file in the same folder and replaces the target with ``os.replace`` only when complete, so a full
disk or a crash leaves either the old file or nothing — never half a file under the real name.
Failures to write (disk full, no permission, missing folder) become one ``MyoxaiError`` that
names the file and says how much was kept.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from myoxai.errors import MyoxaiError


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output(path: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path | None] = (),
                 flag: str = "--overwrite") -> Path:
    """Refuse ``path`` as an output if it is an input, a folder, exists (without ``overwrite``) or is unwritable.

    Parameters
    ----------
    path:
        The output the user named.
    overwrite:
        The user asked to replace an existing file.
    inputs:
        Files (or folders) the same command reads; an output may never be one of them or lie inside one
        of the folders' recordings.
    flag:
        The option that allows replacing, for the message.
    """
    try:
        return _check_output(Path(path).expanduser(), overwrite, inputs, flag)
    except OSError as exc:  # a name too long, a loop of links…: one line, nothing written
        raise write_failed(path, exc) from None


def _check_output(out: Path, overwrite: bool, inputs: Iterable[str | Path | None], flag: str) -> Path:
    resolved = out.resolve()
    for src in inputs:
        if src is None:
            continue
        s = Path(src).expanduser()
        if resolved == s.resolve() or _same_file(out, s):
            raise MyoxaiError(f"{out} is also an input of this command; write the output to another file "
                              "(nothing was overwritten)")
    if out.is_dir():
        raise MyoxaiError(f"{out} is a folder; give a file name for the output")
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise MyoxaiError(f"{out} exists; choose another name or pass {flag} (nothing was overwritten)")
        if not out.is_file():
            raise MyoxaiError(f"{out} is not a regular file; refusing to replace it")
    parent = resolved.parent
    if not parent.is_dir():
        raise MyoxaiError(f"cannot write {out}: the folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MyoxaiError(f"cannot write {out}: no permission to create files in {parent}")
    try:  # the real test (root passes os.access everywhere, /proc refuses anyway): create and remove a file
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise write_failed(out, exc) from None
    return out


def write_failed(path: str | Path, exc: OSError, kept: str = "nothing was written") -> MyoxaiError:
    """The user-facing error for an ``OSError`` while writing ``path``; ``kept`` says what survived."""
    space = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
             errno.EFBIG: "the file grew beyond the size limit"}
    other = {errno.EACCES: "permission denied", errno.EROFS: "the file system is read-only"}
    reason = space.get(exc.errno or 0) or other.get(exc.errno or 0) or " ".join(str(exc.strerror or exc).split())
    todo = "free space or choose another place" if exc.errno in space or "too large" in reason else \
        "choose another place"
    return MyoxaiError(f"cannot write {path}: {reason}; {kept}. To retry, {todo}")


@contextlib.contextmanager
def atomic_output(path: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path | None] = (),
                  flag: str = "--overwrite") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on any error it is removed.

    The caller writes the whole output to the yielded path. ``check_output`` runs first, so
    nothing is computed for an output that would be refused at the end.
    """
    out = check_output(path, overwrite=overwrite, inputs=inputs, flag=flag)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.resolve().parent)
    except OSError as exc:
        raise write_failed(out, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not overwrite and out.exists():  # created by someone else meanwhile: still never overwrite
            raise MyoxaiError(f"{out} appeared while writing; the output is not saved (nothing was overwritten)")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; outputs are meant to be shared
        os.replace(tmp, out)
    except OSError as exc:
        previous = "the previous file is unchanged" if out.exists() else "nothing was written"
        raise write_failed(out, exc, previous) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_text(path: str | Path, text: str, *, overwrite: bool = False,
               inputs: Iterable[str | Path | None] = ()) -> Path:
    """Write ``text`` to ``path`` atomically under the rules above (JSON reports, CSV tables, logs)."""
    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        tmp.write_text(text)
    return Path(path)


def check_output_dir(path: str | Path, *, overwrite: bool = False, flag: str = "--overwrite",
                     what: str = "the figures") -> Path:
    """Refuse an output folder (``what`` it is for) that is a file, or already holds files, unless ``overwrite``.

    File names are fixed per command (figures, a LibEMG session), so a non-empty folder would lose
    earlier files of the same names; the folder is created (with its parents) when it does not exist.
    """
    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise MyoxaiError(f"{out} is a file; give a folder for {what}")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise MyoxaiError(f"{out} already holds files; choose an empty or new folder or pass {flag} "
                          "(nothing was overwritten)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_failed(out, exc) from None
    return out


def save_figure(fig: object, path: str | Path, *, overwrite: bool = True, inputs: Iterable[str | Path | None] = (),
                dpi: int = 120) -> Path:
    """``fig.savefig`` to ``path`` through a temporary file.

    ``overwrite`` defaults to True for figures inside a folder approved by ``check_output_dir``;
    a figure the user named directly passes the command's ``--overwrite``.
    """
    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        fig.savefig(tmp, dpi=dpi, format=Path(path).suffix.lstrip(".") or "png")  # type: ignore[attr-defined]
    return Path(path)


def _create_exclusive(path: Path) -> BinaryIO:
    """Create ``path`` for writing only if it does not exist (``O_EXCL``): two writers never share a file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except FileExistsError:
        raise MyoxaiError(f"{path} was created by another program meanwhile; nothing was overwritten "
                          "(choose another name)") from None
    except OSError as exc:
        raise write_failed(path, exc) from None
    return os.fdopen(fd, "wb")


class GrowingOutput:
    """A file written over minutes (a recording), created exclusively; with ``overwrite``, beside the target.

    Without ``overwrite`` (or when the target does not exist) the file is created with ``O_EXCL``
    under its real name, so two recorders started on one path cannot both write it; a crash leaves
    the part written so far. With ``overwrite`` and an existing target, the new file is written
    under a temporary name in the same folder (``NAME.partial-PID.SUFFIX``) and replaces the target
    only in ``commit()`` (a clean stop), so a crash or a full disk leaves the old file intact and the
    partial new one under its temporary name.
    """

    def __init__(self, path: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path | None] = ()) -> None:
        self.target = check_output(path, overwrite=overwrite, inputs=inputs)
        self.replacing = overwrite and self.target.exists()
        self.path = (self.target.with_name(f"{self.target.stem}.partial-{os.getpid()}{self.target.suffix}")
                     if self.replacing else self.target)
        self.file = _create_exclusive(self.path)

    def commit(self) -> Path:
        """Close the file and, when replacing, move it over the target; returns where the data now is."""
        self.file.close()
        if self.replacing:
            try:
                os.replace(self.path, self.target)
            except OSError as exc:
                raise write_failed(self.target, exc, f"the previous file is unchanged and the new one is kept in "
                                                     f"{self.path}") from None
            self.path = self.target
        return self.path

    def discard(self) -> None:
        """Close and remove the new file (nothing worth keeping was written); the target is left as it was."""
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def kept_message(self, what: str) -> str:
        """Where ``what`` (e.g. "the 800 samples recorded") was kept after a failure, for the user."""
        if self.replacing:
            return f"the previous {self.target.name} is unchanged; {what} are kept in {self.path}"
        return f"{what} are kept in {self.path} and readable"


def open_log(path: str | Path, first_line_key: str, *, inputs: Iterable[str | Path | None] = ()) -> TextIO:
    """Open an append-only log (one JSON object per line), refusing any file that is not such a log.

    Appending never destroys earlier lines, but appending to a recording or a model would: an
    existing non-empty file is accepted only if its first line is a JSON object holding
    ``first_line_key`` (a log this program wrote), and never when it is one of ``inputs``.
    """
    import json

    out = Path(path).expanduser()
    if out.exists() and out.is_file() and out.stat().st_size > 0:
        try:
            with open(out, encoding="utf-8") as f:
                head = json.loads(f.readline(1 << 20))
        except (OSError, ValueError, UnicodeDecodeError):
            head = None
        if not isinstance(head, dict) or first_line_key not in head:
            raise MyoxaiError(f"{out} exists and is not a log of this kind; choose another file "
                              "(nothing was appended)")
    check_output(out, overwrite=True, inputs=inputs)
    try:
        return open(out, "a", encoding="utf-8")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise write_failed(out, exc) from None

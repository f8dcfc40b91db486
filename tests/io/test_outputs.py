"""Outputs never destroy a file: refuse existing paths and inputs, write atomically, say what was kept."""

from __future__ import annotations

import os

import pytest

from myoxai.errors import MyoxaiError
from myoxai.io.outputs import atomic_output, check_output


def test_existing_output_is_refused_without_overwrite(tmp_path):
    out = tmp_path / "a.xdf"
    out.write_bytes(b"precious")
    with pytest.raises(MyoxaiError, match="exists.*--overwrite"):
        check_output(out)
    assert check_output(out, overwrite=True) == out
    assert out.read_bytes() == b"precious"


def test_output_that_is_an_input_is_refused_even_with_overwrite(tmp_path):
    rec = tmp_path / "b.xdf"
    rec.write_bytes(b"recording")
    link = tmp_path / "link.xdf"
    link.symlink_to(rec)
    for out in (rec, link, tmp_path / "." / "b.xdf"):
        with pytest.raises(MyoxaiError, match="also an input"):
            check_output(out, overwrite=True, inputs=[rec])
    assert rec.read_bytes() == b"recording"


def test_folder_missing_parent_and_unwritable_parent_are_refused(tmp_path):
    with pytest.raises(MyoxaiError, match="is a folder"):
        check_output(tmp_path)
    with pytest.raises(MyoxaiError, match="does not exist"):
        check_output(tmp_path / "nope" / "x.json")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        with pytest.raises(MyoxaiError, match="no permission"):
            check_output(ro / "x.json")
    finally:
        ro.chmod(0o700)


def test_atomic_output_replaces_only_on_success(tmp_path):
    out = tmp_path / "m.json"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(out, overwrite=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]  # no temporary left behind
    with atomic_output(out, overwrite=True) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new"
    assert oct(out.stat().st_mode & 0o044) == oct(0o044 & ~_umask())


def _umask() -> int:
    u = os.umask(0)
    os.umask(u)
    return u


def test_oserror_while_writing_names_the_file_and_what_was_kept(tmp_path):
    out = tmp_path / "m.json"
    with pytest.raises(MyoxaiError, match=r"cannot write .*m\.json: the disk is full; nothing was written"), \
            atomic_output(out) as tmp:
        tmp.write_text("x")
        raise OSError(28, "No space left on device")
    assert not out.exists()

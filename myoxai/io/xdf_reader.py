"""Reading XDF recordings: the scan checks the structure, pyxdf decodes only the streams we use.

The stream metadata (name, type, rate, channel count) comes from the scan's one header parser, so
what was checked is what is used; pyxdf gets a view of the file that ends at its last whole chunk
(a crash's partial chunk is never read, and nothing is copied to ``$TMPDIR``), and decodes only the
EMG stream and its marker stream, after their sample count was checked against
``MAX_DECODED_SAMPLES``.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.io.recording import UNLABELED, Recording
from myoxai.io.validate import check_finite, check_rate
from myoxai.io.xdf_scan import EMG_TYPE, MARKER_TYPE, MAX_DECODED_SAMPLES, StreamLayout, XdfLayout, scan_xdf

log = logging.getLogger(__name__)


class _Prefix(io.RawIOBase):
    """The first ``limit`` bytes of a file, read-only: pyxdf sees the file end after its last whole chunk."""

    def __init__(self, path: Path, limit: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._limit = limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        left = max(0, self._limit - self._f.tell())
        return self._f.readinto(memoryview(b)[:left]) or 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._f.tell(), io.SEEK_END: self._limit}[whence]
        return self._f.seek(min(max(0, base + offset), self._limit))

    def tell(self) -> int:
        return self._f.tell()

    def close(self) -> None:
        self._f.close()
        super().close()


def _open(path: Path) -> XdfLayout:
    if path.suffix.lower() == ".xdfz":
        raise MyoxaiError(f"{path}: compressed XDF (.xdfz) is not supported; decompress it to .xdf first")
    return scan_xdf(path)  # structure checked before pyxdf allocates anything


def _load_streams(path: Path, layout: XdfLayout | None = None, select: list[int] | None = None) -> list[dict[str, Any]]:
    """The pyxdf streams of ``path`` (only the ids in ``select``, default all), read through the scanned prefix."""
    import pyxdf

    layout = layout or _open(path)
    if layout.truncated:
        log.warning("%s ends in a partial chunk (crash while writing?); reading its %d complete bytes",
                    path, layout.complete_bytes)
    chosen = select if select is not None else list(layout.streams)
    total = sum(layout.streams[i].samples for i in chosen)
    if total > MAX_DECODED_SAMPLES:
        raise MyoxaiError(f"{path}: the streams to read hold {total} samples, more than myoxai reads from one file "
                          f"({MAX_DECODED_SAMPLES}); split the recording")
    try:
        with _Prefix(path, layout.complete_bytes) as f:
            streams, _ = pyxdf.load_xdf(io.BufferedReader(f, 1 << 16), select_streams=chosen or None,
                                        synchronize_clocks=True, dejitter_timestamps=False)
    except OSError as exc:
        raise MyoxaiError(f"cannot read {path}: {exc.strerror or exc}") from None
    except Exception as exc:  # pyxdf raises assorted types on malformed files
        raise MyoxaiError(f"{path} could not be parsed as XDF ({exc}); the file is damaged") from None
    return streams


def _sid(s: dict[str, Any]) -> int:
    return int(s["info"]["stream_id"])


def read_recording(path: str | Path, stream: str | None = None) -> Recording:
    """Read the EMG stream (by name, else the first of type EMG) and its markers into a Recording."""
    path = Path(path)
    layout = _open(path)
    emg = [i for i, st in layout.streams.items()
           if (st.name == stream if stream is not None else st.type == EMG_TYPE)]
    if not emg:
        names = [f"{st.name} ({st.type})" for st in layout.streams.values()]
        raise MyoxaiError(f"{path} has no EMG stream{f' named {stream}' if stream else ''}; streams: {names}")
    st = layout.streams[emg[0]]
    where = f"{path}, stream '{st.name}'"
    if st.format == "string":
        raise MyoxaiError(f"{where} holds text, not numbers; pick the EMG stream (stream=NAME)")
    if st.samples == 0:
        raise MyoxaiError(f"{path}: EMG stream '{st.name}' holds no samples")
    fs = check_rate(st.fs, where)
    markers = [i for i, m in layout.streams.items() if m.type == MARKER_TYPE and m.samples and i != emg[0]][:1]
    streams = {_sid(s): s for s in _load_streams(path, layout, [emg[0], *markers])}
    s = streams[emg[0]]
    values = np.asarray(s["time_series"], dtype=np.float32).reshape(-1, st.channels)
    ts = np.asarray(s["time_stamps"], dtype=np.float64)
    check_finite(values, where)
    check_finite(ts, f"{where} (timestamps)")
    meta = _myoxai_meta(s["info"])
    meta.update({"source": str(path), "stream": st.name})
    class_names: tuple[str, ...] = ()
    labels = None
    if markers and markers[0] in streams:
        class_names, labels = _labels_from_markers(streams[markers[0]], ts)
    return Recording(values, ts, fs, labels, class_names, meta)


def stream_layouts(path: str | Path) -> dict[int, StreamLayout]:
    """The checked header of every stream in ``path`` (name, type, channels, rate, format, sample count)."""
    return _open(Path(path)).streams


def _myoxai_meta(info: dict[str, Any]) -> dict[str, Any]:
    desc = (info.get("desc") or [None])[0] or {}
    if not (isinstance(desc, dict) and desc.get("myoxai")):
        return {}
    try:
        meta = json.loads(desc["myoxai"][0]["meta"][0])
    except (KeyError, IndexError, TypeError, json.JSONDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _labels_from_markers(m: dict[str, Any], ts: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """Class names (declared, then any others the markers use) and each EMG sample's label (dict look-ups)."""
    class_names: tuple[str, ...] = ()
    mdesc = (m["info"].get("desc") or [None])[0]
    if isinstance(mdesc, dict) and isinstance(mdesc.get("classes"), list) and isinstance(mdesc["classes"][0], dict):
        class_names = tuple(c for c in mdesc["classes"][0].get("class", []) if isinstance(c, str))
    texts = [row[0] if isinstance(row, (list, tuple)) and row and isinstance(row[0], str) else "unlabeled"
             for row in m["time_series"]]
    names = list(class_names)
    index = {name: i for i, name in reversed(list(enumerate(names)))}  # first occurrence wins, as .index did
    for t in texts:
        if t != "unlabeled" and t not in index:
            index[t] = len(names)
            names.append(t)
    class_names = tuple(names)
    codes = np.array([index.get(t, UNLABELED) for t in texts], dtype=np.int64)
    mts = np.asarray(m["time_stamps"], dtype=np.float64)
    order = np.argsort(mts, kind="stable")
    idx = np.searchsorted(mts[order], ts, side="right") - 1
    return class_names, np.where(idx >= 0, codes[order][np.maximum(idx, 0)], UNLABELED)

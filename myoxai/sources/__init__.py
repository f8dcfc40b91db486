"""Acquisition: every EMG input (Myo via BLED112 or native BLE, LSL, replay) as one ``Source``.

How to use a source (the engine and GUI rely on exactly this)::

    from myoxai.sources import open_source

    src = open_source("myo")            # or "myo:/dev/ttyACM0", "myo-ble", "myo-ble:ADDR",
    src.start()                         #    "lsl:NAME", "replay:recording.xdf"
    try:
        while src.running:
            for chunk in src.read(timeout=0.5):    # DRAIN: every chunk exactly once, in order
                chunk.samples      # (n, 8) float32 (Myo raw int8 values)
                chunk.timestamps   # (n,) LSL local_clock() seconds
                chunk.seq          # (n,) sample numbers; they skip where samples were lost
                chunk.gap          # samples missing just before this chunk (0 = continuous)
                chunk.labels       # (n,) class indices for labelled replays, else None
            samples, stamps = src.peek(400)        # PEEK: latest 2 s for a display; consumes nothing
            st = src.status()      # state, connected, rate_hz, samples_received/lost/dropped, gaps,
                                   # stalls, reconnects, reconnect_s, garbage_bytes, battery, error
    finally:
        src.stop()                 # joins the thread; chunks still queued stay readable

Rules every source follows (``ThreadedSource``): one acquisition thread per source pushes chunks
into a bounded queue; when the consumer falls behind the *oldest* chunk is dropped, counted in
``samples_dropped`` and recorded as a ``queue-overflow`` gap — never silently. Lost data (Myo
packets missing from the round robin, link drops, LSL timestamp holes) is reported as a ``Gap`` in
``status().gaps`` and visible in the chunk stream through ``seq``/``gap``. An error in the thread is
logged, shown in ``status().error`` and re-raised (as ``MyoxaiError``) by ``read`` once the queue is
empty. Myo sources reconnect by themselves; ``read_imu()`` drains their IMU samples when ``imu=True``.
"""

from __future__ import annotations

from myoxai.errors import MyoxaiError
from myoxai.sources.base import Chunk, Gap, Source, SourceStatus, ThreadedSource, local_clock

__all__ = ["Chunk", "Gap", "Source", "SourceStatus", "ThreadedSource", "local_clock", "open_source",
           "SOURCE_SPECS"]

SOURCE_SPECS = "replay:FILE, myo[:PORT], myo-ble[:ADDRESS] or lsl:NAME (lsl alone = first EMG stream)"


def open_source(spec: str, imu: bool = False, speed: float = 1.0, loop: bool = False,
                chunk: int = 10, queue_chunks: int = 2000) -> ThreadedSource:
    """Build (not start) a source from a spec string.

    Parameters
    ----------
    spec:
        ``replay:FILE`` | ``myo`` | ``myo:PORT`` | ``myo-ble`` | ``myo-ble:ADDRESS`` | ``lsl`` | ``lsl:NAME``.
    imu:
        Also stream the Myo's IMU (Myo sources only).
    speed, loop, chunk, queue_chunks:
        Replay pacing (1 = real time, 0 = as fast as possible), looping, samples per chunk, and how
        many chunks an unpaced replay may read ahead of its consumer.
    """
    kind, _, arg = spec.partition(":")
    if kind == "replay":
        if not arg:
            raise MyoxaiError("replay needs a file: --source replay:recording.xdf")
        from myoxai.sources.replay import ReplaySource

        return ReplaySource(arg, speed=speed, chunk=chunk, loop=loop, queue_chunks=queue_chunks)
    if kind == "myo":
        from myoxai.sources.bled112 import MyoBled112Source

        return MyoBled112Source(port=arg or None, imu=imu)
    if kind == "myo-ble":
        from myoxai.sources.ble import MyoBleSource

        return MyoBleSource(address=arg or None, imu=imu)
    if kind == "lsl":
        from myoxai.sources.lsl import LslSource

        return LslSource(name=arg or None)
    raise MyoxaiError(f"unknown source '{spec}'; use {SOURCE_SPECS}")

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

Device kinds are data: ``DEVICE_KINDS`` (``myoxai.sources.devices``) holds one row per spec prefix
(label, argument, hint, rate, channels, factory) and feeds ``open_source``, the GUI's source
dialog and every ``--source`` help text.
"""

from __future__ import annotations

from myoxai.sources.base import Chunk, Gap, Source, SourceStatus, ThreadedSource, local_clock
from myoxai.sources.devices import DEVICE_KINDS, DeviceKind, SourceOptions, open_source, source_help

__all__ = ["DEVICE_KINDS", "Chunk", "DeviceKind", "Gap", "Source", "SourceOptions", "SourceStatus", "ThreadedSource",
           "local_clock", "open_source", "source_help"]

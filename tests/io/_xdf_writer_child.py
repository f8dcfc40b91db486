"""Child process for the SIGKILL test: streams the bundled recording into an XDF file until killed."""

from __future__ import annotations

import os
import sys
import time

from myoxai.io import read_recording
from myoxai.io.xdf import EmgXdfRecorder

src, out, progress = sys.argv[1], sys.argv[2], sys.argv[3]
rec = read_recording(src)
with EmgXdfRecorder(out, rec.fs, rec.class_names) as w:
    w.marker(float(rec.timestamps[0]), rec.class_names[int(rec.labels[0])])
    for i in range(0, len(rec), 10):  # 50 ms chunks, 100x faster than real time
        w.append(rec.samples[i:i + 10], rec.timestamps[i:i + 10])
        with open(progress + ".tmp", "w") as p:  # atomic publish: the parent never sees a half-written number
            p.write(str(i + 10))
        os.replace(progress + ".tmp", progress)
        time.sleep(0.0005)

"""The live app's window: a thin PyQt6 + pyqtgraph view over ``myoxai.engine``.

No signal processing or learning happens here: panels only draw published ``Decision`` records
(drained from a bounded ``Subscription`` by one ``QTimer``), the source's display ring
(``engine.peek_emg``) and status snapshots. Panels implement the ``DecisionView`` protocol.
"""

from __future__ import annotations

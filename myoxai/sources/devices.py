"""The device table: every kind of ``--source`` spec as one row of data.

``open_source``, the GUI's source dialog and every command's ``--source`` help read
``DEVICE_KINDS``, so adding a device kind is one ``ThreadedSource`` module plus one entry here
(the BrainFlow board table is the model). The rates and channel counts are ``myoxai.config``'s
device facts, which the dataset loaders read too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from myoxai.config import MYO, DeviceSignal
from myoxai.errors import MyoxaiError
from myoxai.sources.base import ThreadedSource

__all__ = ["DEVICE_KINDS", "DeviceKind", "SourceOptions", "open_source", "source_help"]


@dataclass(frozen=True)
class SourceOptions:
    """The ``open_source`` options; each factory uses the ones that concern its device.

    Attributes
    ----------
    imu:
        Also stream the Myo's IMU (Myo sources only).
    speed, loop, chunk, queue_chunks:
        Replay pacing (1 = real time, 0 = as fast as possible), looping, samples per chunk, and how
        many chunks an unpaced replay may read ahead of its consumer.
    """

    imu: bool = False
    speed: float = 1.0
    loop: bool = False
    chunk: int = 10
    queue_chunks: int = 2000


@dataclass(frozen=True)
class DeviceKind:
    """One row of the device table.

    Attributes
    ----------
    prefix:
        The spec's part before ``:`` (``myo`` in ``myo:/dev/ttyACM0``).
    label:
        What the source dialog shows.
    argument:
        Name of the part after ``:`` in help texts (``PORT``, ``ADDRESS``, ``NAME``, ``FILE``).
    hint:
        What the argument is and what leaving it out means (the dialog's placeholder).
    factory:
        ``factory(argument or None, options)`` builds the source, not started; it imports the
        device's driver lazily so listing the table stays cheap.
    signal:
        Rate and channels the kind delivers (or, for LSL, insists on); ``None`` = whatever the
        file holds (replays).
    required:
        The argument cannot be left out.
    file_patterns:
        Glob patterns when the argument is a file (the dialog offers Browse… for it).
    """

    prefix: str
    label: str
    argument: str
    hint: str
    factory: Callable[[str | None, SourceOptions], ThreadedSource]
    signal: DeviceSignal | None
    required: bool = False
    file_patterns: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        """The spec pattern for help texts: ``replay:FILE`` or ``myo[:PORT]``."""
        return f"{self.prefix}:{self.argument}" if self.required else f"{self.prefix}[:{self.argument}]"


def _replay(arg: str | None, opt: SourceOptions) -> ThreadedSource:
    from myoxai.sources.replay import ReplaySource

    return ReplaySource(arg, speed=opt.speed, chunk=opt.chunk, loop=opt.loop, queue_chunks=opt.queue_chunks)


def _myo_bled112(arg: str | None, opt: SourceOptions) -> ThreadedSource:
    from myoxai.sources.bled112 import MyoBled112Source

    return MyoBled112Source(port=arg, imu=opt.imu)


def _myo_ble(arg: str | None, opt: SourceOptions) -> ThreadedSource:
    from myoxai.sources.ble import MyoBleSource

    return MyoBleSource(address=arg, imu=opt.imu)


def _lsl(arg: str | None, opt: SourceOptions) -> ThreadedSource:
    from myoxai.sources.lsl import LslSource, parse_lsl_spec

    name, host, source_id = parse_lsl_spec(arg)
    return LslSource(name=name, host=host, source_id=source_id, fs=MYO.fs, n_channels=MYO.n_channels)


DEVICE_KINDS: dict[str, DeviceKind] = {k.prefix: k for k in (
    DeviceKind("replay", "Replay a file", "FILE", "path to .xdf / myo-readings session / long-term trial",
               _replay, None, required=True, file_patterns=("*.xdf", "*.txt", "*.csv")),
    DeviceKind("myo", "Myo via BLED112 dongle", "PORT", "serial port (empty = find the dongle)", _myo_bled112, MYO),
    DeviceKind("myo-ble", "Myo via Bluetooth LE", "ADDRESS", "device address (empty = scan)", _myo_ble, MYO),
    DeviceKind("lsl", "LSL stream", "NAME", "stream name, NAME@HOST or source_id=ID (empty = first EMG stream)",
               _lsl, MYO),
)}


def source_help(sep: str = " | ") -> str:
    """Every spec pattern of the table, e.g. ``replay:FILE | myo[:PORT] | …`` (the ``--source`` help)."""
    return sep.join(k.spec for k in DEVICE_KINDS.values())


def open_source(spec: str, imu: bool = False, speed: float = 1.0, loop: bool = False,
                chunk: int = 10, queue_chunks: int = 2000) -> ThreadedSource:
    """Build (not start) a source from a spec string ``PREFIX[:ARGUMENT]`` of the device table.

    Parameters
    ----------
    spec:
        ``replay:FILE`` | ``myo[:PORT]`` | ``myo-ble[:ADDRESS]`` | ``lsl[:NAME]`` (see ``source_help()``).
    imu, speed, loop, chunk, queue_chunks:
        See ``SourceOptions``.
    """
    prefix, _, arg = spec.partition(":")
    kind = DEVICE_KINDS.get(prefix)
    if kind is None:
        raise MyoxaiError(f"unknown source '{spec}'; use {source_help(', ')}")
    if kind.required and not arg:
        raise MyoxaiError(f"{prefix} needs a {kind.argument.lower()}: --source {kind.spec}")
    return kind.factory(arg or None, SourceOptions(imu, speed, loop, chunk, queue_chunks))

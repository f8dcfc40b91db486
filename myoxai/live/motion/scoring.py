"""Real-time Motion Test metrics (after BioPatRec's Motion Test), computed from a decision stream and prompts.

A *prompt* asks for one gesture from ``onset`` for at most ``hold_limit_s`` seconds (a live prompt
ends there; a recording's label run may end earlier, at the next label onset). Against the
decisions made inside that trial window:

- selection time: onset → the first decision of the prompted gesture;
- completion time: onset → the K-th decision of the prompted gesture (K = ``k_correct``);
- completed: the K-th correct decision came inside the trial window;
- real-time accuracy: correct decisions / all decisions inside the window (a rejected decision counts
  as not correct).

Per gesture, times are means over the trials that reached them; overall, rates and accuracy pool the
trials and decisions, and times are means over trials. Everything here is pure (arrays in, numbers
out), so the same code scores a live session, a replay against its labels and a unit test.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError


@dataclass(frozen=True)
class Prompt:
    """One trial: show ``gesture`` from ``onset`` (seconds) until ``end`` (None = until the hold limit)."""

    gesture: int
    onset: float
    end: float | None = None


@dataclass(frozen=True)
class TrialResult:
    """The outcome of one prompt."""

    gesture: int
    onset: float
    selection_time_s: float | None
    completion_time_s: float | None
    completed: bool
    n_decisions: int
    n_correct: int


@dataclass
class MotionTestResult:
    """Trials, per-gesture and overall metrics, and the confusion of decisions during prompts."""

    class_names: tuple[str, ...]
    trials: list[TrialResult]
    confusion: np.ndarray  # (n_classes, n_classes + 1): prompted gesture × decided label, last column = rejected
    k_correct: int
    hold_limit_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    def gesture_summary(self, gesture: int) -> dict[str, Any]:
        """Completion rate and times over the trials of one gesture."""
        trials = [t for t in self.trials if t.gesture == gesture]
        return _summary(trials)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``myoxai motion-test`` (None where no trial reached a time)."""
        overall = _summary(self.trials)
        prompted = sorted({t.gesture for t in self.trials})
        return {**overall, "k_correct": self.k_correct, "hold_limit_s": self.hold_limit_s,
                "gestures": {self.class_names[g]: self.gesture_summary(g) for g in prompted},
                "confusion": {"rows": "prompted gesture", "columns": [*self.class_names, "(rejected)"],
                              "counts": self.confusion.astype(int).tolist()},
                "per_trial": [{"gesture": self.class_names[t.gesture], "onset_s": round(t.onset, 4),
                            "selection_time_s": t.selection_time_s, "completion_time_s": t.completion_time_s,
                            "completed": t.completed, "decisions": t.n_decisions, "correct": t.n_correct}
                           for t in self.trials], **self.extra}


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _summary(trials: Sequence[TrialResult]) -> dict[str, Any]:
    n_dec = sum(t.n_decisions for t in trials)
    return {"trials": len(trials),
            "selection_time_s": _mean([t.selection_time_s for t in trials if t.selection_time_s is not None]),
            "completion_time_s": _mean([t.completion_time_s for t in trials if t.completion_time_s is not None]),
            "completion_rate": sum(t.completed for t in trials) / len(trials) if trials else None,
            "realtime_accuracy": sum(t.n_correct for t in trials) / n_dec if n_dec else None,
            "decisions": n_dec}


def score_motion_test(times: np.ndarray, labels: np.ndarray, prompts: Sequence[Prompt],
                      class_names: Sequence[str], k_correct: int = 10, hold_limit_s: float = 5.0) -> MotionTestResult:
    """Score a decision stream against prompts.

    Parameters
    ----------
    times, labels:
        (n,) decision times (same clock as the prompts) and post-processed labels (−1 = rejected).
    prompts:
        The trials, in any order; a trial window is ``[onset, min(onset + hold_limit_s, end))``.
    class_names:
        Gesture names (index = label).
    k_correct:
        Correct decisions that complete a trial.
    hold_limit_s:
        The time a trial may take.
    """
    if k_correct < 1:
        raise MyoxaiError("the number of correct decisions that completes a trial (K) must be at least 1")
    if not hold_limit_s > 0:
        raise MyoxaiError("the hold limit must be positive (seconds)")
    times, labels = np.asarray(times, float), np.asarray(labels, int)
    n_cls = len(class_names)
    confusion = np.zeros((n_cls, n_cls + 1), np.int64)
    trials = []
    for p in sorted(prompts, key=lambda p: p.onset):
        stop = p.onset + hold_limit_s if p.end is None else min(p.end, p.onset + hold_limit_s)
        inside = (times >= p.onset) & (times < stop)
        t_in, lab_in = times[inside], labels[inside]
        hits = t_in[lab_in == p.gesture] - p.onset
        for lab in lab_in:
            confusion[p.gesture, lab if 0 <= lab < n_cls else n_cls] += 1
        selection = float(hits[0]) if len(hits) else None
        completion = float(hits[k_correct - 1]) if len(hits) >= k_correct else None
        trials.append(TrialResult(p.gesture, p.onset, selection, completion, completion is not None,
                                  int(inside.sum()), int(len(hits))))
    return MotionTestResult(tuple(class_names), trials, confusion, k_correct, hold_limit_s)


def prompts_from_labels(times: np.ndarray, labels: np.ndarray, skip: Sequence[int] = (),
                        final_end: float | None = None) -> list[Prompt]:
    """One prompt per label onset of a labelled recording (a run ends where the next begins).

    Parameters
    ----------
    times, labels:
        Per-sample timestamps and labels (negative = unlabeled: ends a run, never prompts).
    skip:
        Labels that never prompt (e.g. rest).
    final_end:
        End of the last run (default: one sample period after the last sample).
    """
    times, labels = np.asarray(times, float), np.asarray(labels, int)
    if len(labels) == 0:
        return []
    starts = np.flatnonzero(np.concatenate([[True], labels[1:] != labels[:-1]]))
    period = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    ends = [*times[starts[1:]], final_end if final_end is not None else times[-1] + period]
    return [Prompt(int(labels[s]), float(times[s]), float(e)) for s, e in zip(starts, ends, strict=True)
            if labels[s] >= 0 and int(labels[s]) not in skip]


class LabelOnsets:
    """A chunk listener that turns a labelled replay's label changes into prompts, as they stream in.

    Use with ``Engine.add_chunk_listener``; ``prompts()`` returns the runs seen so far (the current
    one open-ended).
    """

    def __init__(self, skip: Sequence[int] = ()) -> None:
        self.skip = set(skip)
        self._runs: list[list[float]] = []  # [gesture, onset, end]
        self._last: int | None = None

    def __call__(self, chunks: Sequence[Any]) -> None:
        """Record the label changes in ``chunks`` (the engine's chunk-listener call)."""
        for c in chunks:
            if getattr(c, "labels", None) is None or len(c) == 0:
                continue
            lab, ts = np.asarray(c.labels, int), np.asarray(c.timestamps, float)
            change = np.flatnonzero(np.concatenate([[lab[0] != self._last], lab[1:] != lab[:-1]]))
            for i in change:
                if self._runs and self._runs[-1][2] is None:
                    self._runs[-1][2] = float(ts[i])
                self._runs.append([int(lab[i]), float(ts[i]), None])
            self._last = int(lab[-1])

    def prompts(self) -> list[Prompt]:
        """The label runs seen so far as prompts, without unlabelled runs and skipped gestures."""
        return [Prompt(int(g), on, end) for g, on, end in self._runs if g >= 0 and g not in self.skip]


@dataclass(frozen=True)
class ScheduledPrompt:
    """A live trial: rest for ``rest_s`` then show ``gesture`` for ``hold_limit_s``; offsets from the test start."""

    gesture: int
    onset_s: float
    hold_limit_s: float


def prompt_schedule(gestures: Sequence[int], repetitions: int = 3, hold_limit_s: float = 5.0, rest_s: float = 3.0,
                    seed: int = 0) -> list[ScheduledPrompt]:
    """Random order of ``repetitions`` trials per gesture (no gesture twice in a row when avoidable).

    Each trial begins with ``rest_s`` of rest, then the prompt for ``hold_limit_s`` seconds.
    """
    if repetitions < 1 or not gestures:
        raise MyoxaiError("a motion test needs at least one gesture and one repetition")
    if rest_s < 0 or not hold_limit_s > 0:
        raise MyoxaiError("rest must be ≥ 0 s and the hold limit > 0 s")
    rng = random.Random(seed)
    order: list[int] = []
    for _ in range(repetitions):  # shuffle block by block: every gesture once per block
        block = list(gestures)
        rng.shuffle(block)
        if order and len(block) > 1 and block[0] == order[-1]:
            block[0], block[-1] = block[-1], block[0]
        order += block
    out, t = [], 0.0
    for g in order:
        t += rest_s
        out.append(ScheduledPrompt(int(g), t, hold_limit_s))
        t += hold_limit_s
    return out


def schedule_seconds(schedule: Sequence[ScheduledPrompt]) -> float:
    """Length of the whole test (the last trial's end)."""
    return max((p.onset_s + p.hold_limit_s for p in schedule), default=0.0)


class RunningAccuracy:
    """Real-time accuracy of the decisions of a labelled replay so far (rejected decisions count as wrong).

    Decisions without a true label (live sources, unlabelled stretches) are ignored; a model with
    other gestures restarts the count.
    """

    def __init__(self) -> None:
        self.correct = self.n = 0
        self._classes: tuple[str, ...] = ()

    def update(self, decisions: Sequence[Any]) -> None:
        """Count the labelled decisions in ``decisions`` (the engine's sink call)."""
        for d in decisions:
            if d.class_names != self._classes:
                self.correct = self.n = 0
                self._classes = d.class_names
            if d.true_label is not None and d.true_label >= 0:
                self.n += 1
                self.correct += int(d.label == d.true_label)

    @property
    def accuracy(self) -> float | None:
        """Fraction of labelled decisions that were correct, or None before the first one."""
        return self.correct / self.n if self.n else None

    def text(self) -> str:
        """'' without labels, else e.g. 'real-time accuracy 92.3 % (1,820 labelled decisions)'."""
        return "" if not self.n else f"real-time accuracy {100 * self.accuracy:.1f} % ({self.n:,} labelled decisions)"

"""``recalibrate``: adapt a trained model to new unlabeled data (DANN or SCADANN), with safeguards.

Built for the live app: it runs in a worker thread on a bounded number of torch threads, works
on a deep copy (the caller's model keeps serving decisions meanwhile), reports progress,
stops within one batch when ``cancel`` is set, and only hands back a new model when it passes
the safeguards — otherwise the caller's own model comes back and the report says why.

SCADANN follows the reference (Côté-Allard et al. 2020, LongTermEMG): DANN from the calibration
model, pseudo-labels from the DANN model by the stability heuristic, then self-calibration with
separate source and target steps. ``SourceData.replay`` accumulates the pseudo-labelled windows of
earlier accepted recalibrations, which the reference replays with the labeled calibration data.
``start`` (a model already re-normalised and rotation-compensated by ``myoxai.adapt.quick``) gives
the target domain that starting point while the source domain keeps the calibration's.

The safeguard's source validation is the calibration data's held-out groups: the same groups the
calibration model's trainer held out (``group_split`` with the same seed and fraction, or the
``validation_groups`` its report listed), so neither the model nor the recalibration ever
trained on them.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from myoxai.adapt.dann import SOURCE, TARGET, init_target, merge_batchnorm, set_domain, split_batchnorm
from myoxai.adapt.loop import (
    Cancelled,
    ExtraLoss,
    LoopData,
    Progress,
    adversarial_fit,
    check_cancel,
    domain_loss_and_accuracy,
)
from myoxai.adapt.pseudo_labels import UNLABELED, PseudoLabelSettings, pseudo_label_summary, pseudo_labels
from myoxai.errors import MyoxaiError
from myoxai.models import SPECTROGRAM, SPECTROGRAM_MODELS, MyoModel, torch_threads
from myoxai.models.training import group_split, stratified_split

log = logging.getLogger(__name__)
METHODS = ("scadann", "dann")


@dataclass
class SourceData:
    """The labeled calibration data a model was trained on (the replay set of recalibration).

    Attributes
    ----------
    x:
        (n, 4, 8, 10) raw spectrograms, float32.
    y:
        (n,) class indices.
    groups:
        Optional (n,) id of the trial/segment each window came from: validation then holds out
        whole groups (windows of one trial are correlated, so a window-level split is optimistic).
    description:
        What the data is (files, subject, day...), copied into the new model's lineage.
    validation_groups:
        The groups the calibration model was validated on (its training report's ``val_groups``);
        when given they are the safeguard's source validation, exactly.
    replay_x, replay_y:
        Pseudo-labelled windows kept from earlier accepted recalibrations (SCADANN's replay of
        earlier sessions); they are trained on with the labeled data, never validated on.
    """

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None = None
    description: dict[str, Any] = field(default_factory=dict)
    validation_groups: np.ndarray | None = None
    replay_x: np.ndarray | None = None
    replay_y: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=np.float32)
        self.y = np.asarray(self.y, dtype=np.int64)
        if self.x.ndim != 4 or len(self.x) != len(self.y):
            raise MyoxaiError(f"source data needs x (n, frames, channels, freqs) and y (n,), got {self.x.shape} "
                              f"and {self.y.shape}")
        if self.groups is not None and len(self.groups) != len(self.y):
            raise MyoxaiError("source data: groups must have one entry per window")
        if self.replay_x is None:
            self.replay_x = np.empty((0, *self.x.shape[1:]), np.float32)
            self.replay_y = np.empty(0, np.int64)

    def validation_split(self, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(train, val) indices: the calibration's held-out groups (see the module docstring), else stratified."""
        if self.groups is not None and self.validation_groups is not None:
            is_val = np.isin(self.groups, np.asarray(self.validation_groups))
            return np.flatnonzero(~is_val), np.flatnonzero(is_val)
        if self.groups is None:
            return stratified_split(self.y, fraction, seed)
        return group_split(self.y, self.groups, fraction, seed)

    def training_part(self, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) every recalibration step may train on: the non-validation windows plus the replay."""
        tr, _ = self.validation_split(fraction, seed)
        return np.concatenate([self.x[tr], self.replay_x]), np.concatenate([self.y[tr], self.replay_y])

    def with_replay(self, x: np.ndarray, y: np.ndarray, limit: int | None = None) -> SourceData:
        """A copy that also replays ``x``/``y`` (kept pseudo-labels), newest last, at most ``limit`` of them."""
        rx = np.concatenate([self.replay_x, np.asarray(x, np.float32)])
        ry = np.concatenate([self.replay_y, np.asarray(y, np.int64)])
        if limit is not None and len(ry) > limit:
            rx, ry = rx[-limit:], ry[-limit:]
        return SourceData(self.x, self.y, self.groups, dict(self.description), self.validation_groups, rx, ry)


@dataclass(frozen=True)
class RecalibrationSettings:
    """Optimisation, pseudo-labelling and safeguard parameters (reference values as defaults)."""

    domain_weight: float = 0.1  # λ on the domain loss
    ce_weight: float = 0.5  # weight of each classification loss in self-calibration
    lr: float = 1.3e-3
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 128
    max_epochs: int = 15  # per phase; what fits a live recalibration on 2 shared cores
    patience: int = 3
    val_fraction: float = 0.25  # one of 4 trials per gesture: what the calibration trainer holds out
    seed: int = 0
    threads: int = 1
    min_target_windows: int = 200  # 10 s of use at a 50 ms step
    max_accuracy_drop: float = 0.10  # reject if source-validation accuracy falls by more than this
    min_coverage: float = 0.3  # reject SCADANN if fewer windows than this kept a pseudo-label
    separate_steps: bool = True  # the reference's self-calibration: a source step, then a target step
    replay_limit: int = 20000  # most pseudo-labelled windows kept for replay across recalibrations
    pseudo: PseudoLabelSettings = field(default_factory=PseudoLabelSettings)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (recorded with the results they produce)."""
        return asdict(self)


@dataclass
class RecalibrationReport:
    """What a recalibration did: status, pseudo-label quality, accuracy before/after, time."""

    method: str
    status: str = "running"  # accepted | rejected | cancelled
    reason: str = ""
    n_source: int = 0
    n_target: int = 0
    coverage: float | None = None
    agreement: float | None = None
    pseudo_label_counts: list[int] | None = None
    source_val_accuracy_before: float | None = None
    source_val_accuracy_after: float | None = None
    seconds: float = 0.0
    dann: dict[str, Any] | None = None
    self_calibration: dict[str, Any] | None = None
    saved_path: str | None = None
    started_from: str = "calibration model"
    n_replay: int = 0
    labels: np.ndarray | None = field(default=None, repr=False)  # the pseudo-labels (-1 = discarded), not saved

    @property
    def accepted(self) -> bool:
        """Whether the recalibrated model passed the safeguard and was kept."""
        return self.status == "accepted"

    def to_dict(self, history: bool = False) -> dict[str, Any]:
        """The report as plain JSON values, without the pseudo-labels (and the per-epoch history unless asked)."""
        d = asdict(self)
        d.pop("labels")
        if not history:
            for phase in ("dann", "self_calibration"):
                if d[phase]:
                    d[phase] = {k: v for k, v in d[phase].items() if k != "history"}
        return d


def _check_inputs(model: Any, source: SourceData, unlabeled: np.ndarray, method: str,
                  settings: RecalibrationSettings) -> np.ndarray:
    if method not in METHODS:
        raise MyoxaiError(f"unknown recalibration method {method!r}; choose one of {', '.join(METHODS)}")
    if not isinstance(model, MyoModel) or model.input_kind != SPECTROGRAM:
        raise MyoxaiError(f"recalibration needs a torch spectrogram model ({', '.join(SPECTROGRAM_MODELS)}); "
                          f"got {getattr(model, 'name', type(model).__name__)}")
    x = np.asarray(unlabeled, dtype=np.float32)
    if x.ndim != 4 or x.shape[1:] != source.x.shape[1:]:
        want = ", ".join(map(str, source.x.shape[1:]))
        raise MyoxaiError(f"unlabeled windows have shape {x.shape}; expected (n, {want}) spectrograms like the "
                          "source data")
    if len(x) < settings.min_target_windows:
        raise MyoxaiError(f"only {len(x)} unlabeled windows buffered; recalibration needs at least "
                          f"{settings.min_target_windows} (keep using the armband a little longer)")
    if not (np.isfinite(x).all() and np.isfinite(source.x).all()):
        raise MyoxaiError("recalibration data contains NaN or infinite values; check the signal source")
    if source.y.min() < 0 or source.y.max() >= model.n_classes:
        raise MyoxaiError(f"source labels must lie in 0..{model.n_classes - 1} for this model")
    return x


def adapt_model(model: MyoModel, source: SourceData, unlabeled: np.ndarray, method: str = "scadann",
                settings: RecalibrationSettings | None = None, progress: Progress | None = None,
                cancel: threading.Event | None = None, extra_loss: ExtraLoss | None = None,
                start: MyoModel | None = None) -> tuple[MyoModel, RecalibrationReport]:
    """Run DANN (and for SCADANN, pseudo-labelling + self-calibration) on a deep copy; no safeguards.

    Raises ``Cancelled`` if ``cancel`` is set; ``recalibrate`` is the caller-facing wrapper.
    ``extra_loss`` is added to every training step (see ``adversarial_fit``). ``start``: the
    target domain begins with this re-normalised / rotation-compensated copy's standardiser and
    BatchNorm statistics (``myoxai.adapt.quick``), the source domain with ``model``'s.
    """
    s = settings or RecalibrationSettings()
    xt = _check_inputs(model, source, unlabeled, method, s)
    report = RecalibrationReport(method=method, n_source=len(source.y), n_target=len(xt),
                                 n_replay=len(source.replay_y))
    _, va = source.validation_split(s.val_fraction, s.seed)
    xs_train, ys_train = source.training_part(s.val_fraction, s.seed)
    net = copy.deepcopy(model)
    split_batchnorm(net, standardizer=True)
    if start is not None:
        init_target(net, start)
        report.started_from = "re-normalised, rotation-compensated model"
    common = {"lam": s.domain_weight, "lr": s.lr, "betas": s.betas, "batch_size": s.batch_size,
              "max_epochs": s.max_epochs, "patience": s.patience, "progress": progress, "cancel": cancel,
              "extra_loss": extra_loss}
    report.source_val_accuracy_before = domain_loss_and_accuracy(net, source.x[va], source.y[va], SOURCE)[1]
    dann_span = (0.0, 0.5) if method == "scadann" else (0.0, 1.0)
    report.dann = adversarial_fit(net, LoopData(xs_train, ys_train, xt, None, source.x[va], source.y[va]),
                                  ce_weight=1.0, seed=s.seed, span=dann_span, phase="DANN", **common)
    if method == "scadann":
        check_cancel(cancel)
        set_domain(net, TARGET)
        with torch.no_grad():
            net.eval()
            probs = torch.softmax(torch.cat([net(torch.as_tensor(xt[i:i + 2048])) for i in range(0, len(xt), 2048)]),
                                  dim=1).numpy()
        labels = pseudo_labels(probs, s.pseudo)
        summary = pseudo_label_summary(labels, probs.argmax(axis=1))
        report.coverage, report.agreement = summary["coverage"], summary["agreement"]
        report.labels = labels
        kept = np.flatnonzero(labels != UNLABELED)
        report.pseudo_label_counts = np.bincount(labels[kept], minlength=model.n_classes).tolist()
        if progress is not None:
            progress(0.5, f"pseudo-labels: {summary['coverage']:.0%} of {len(xt)} windows kept")
        if len(kept) >= 2:
            ktr, kva = stratified_split(labels[kept], s.val_fraction, s.seed)
            data = LoopData(xs_train, ys_train, xt[kept[ktr]], labels[kept[ktr]], source.x[va], source.y[va],
                            xt[kept[kva]], labels[kept[kva]])
            report.self_calibration = adversarial_fit(net, data, ce_weight=s.ce_weight, seed=s.seed + 1,
                                                      span=(0.5, 1.0), phase="self-calibration",
                                                      separate_steps=s.separate_steps, **common)
    report.source_val_accuracy_after = domain_loss_and_accuracy(net, source.x[va], source.y[va], SOURCE)[1]
    merge_batchnorm(net, TARGET)
    if start is not None:  # the target side carries the start model's input rotation
        net.init_args.pop("input_rotation", None)
        if "input_rotation" in start.init_args:
            net.init_args["input_rotation"] = dict(start.init_args["input_rotation"])
    net.eval()
    return net, report


def judge(report: RecalibrationReport, settings: RecalibrationSettings) -> None:
    """Set ``report.status`` to accepted or rejected (with the reason) by the safeguards."""
    reasons = []
    drop = (report.source_val_accuracy_before or 0.0) - (report.source_val_accuracy_after or 0.0)
    if drop > settings.max_accuracy_drop:
        reasons.append(f"source-validation accuracy fell by {drop:.1%} (limit {settings.max_accuracy_drop:.0%})")
    if report.method == "scadann":
        if report.coverage is None or report.coverage < settings.min_coverage:
            reasons.append(f"only {report.coverage or 0:.0%} of the windows got a pseudo-label "
                           f"(need {settings.min_coverage:.0%})")
        elif report.self_calibration is None:
            reasons.append("too few pseudo-labeled windows to self-calibrate")
    report.status = "rejected" if reasons else "accepted"
    report.reason = "; ".join(reasons)


def recalibrate(model: MyoModel, source: SourceData, unlabeled_windows: np.ndarray, method: str = "scadann",
                progress: Progress | None = None, cancel: threading.Event | None = None,
                settings: RecalibrationSettings | None = None,
                start: MyoModel | None = None) -> tuple[MyoModel, RecalibrationReport]:
    """Adapt ``model`` to unlabeled windows; return ``(model_to_use, report)``.

    Parameters
    ----------
    model:
        The serving torch spectrogram model; never modified (a deep copy is trained).
    source:
        Labeled calibration data (replayed so the model keeps what it knew; also the safeguard's
        validation set).
    unlabeled_windows:
        (n, 4, 8, 10) float32 spectrograms in the order they were recorded (the engine's buffer).
    method:
        ``"scadann"`` (DANN, then pseudo-labels and self-calibration) or ``"dann"``.
    progress:
        Called as ``progress(fraction, message)`` after each epoch and phase.
    cancel:
        Set it to stop; checked between batches. The report then says ``"cancelled"``.
    settings:
        Optimisation, pseudo-label and safeguard parameters.
    start:
        Optional quick-adapted copy of ``model`` (``myoxai.adapt.quick_adapt``) the target domain starts from.

    Returns
    -------
    The adapted model if ``report.status == "accepted"``, else the caller's ``model`` itself,
    and the report (coverage, agreement, source-validation accuracy before/after, seconds).
    Save an accepted model with ``save_recalibrated`` to keep its lineage.
    """
    s = settings or RecalibrationSettings()
    t0 = time.perf_counter()
    with torch_threads(s.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(s.seed)
        try:
            candidate, report = adapt_model(model, source, unlabeled_windows, method, s, progress, cancel, start=start)
        except Cancelled:
            report = RecalibrationReport(method=method, status="cancelled", reason="cancelled by the caller",
                                         n_source=len(source.y), n_target=len(unlabeled_windows))
            report.seconds = time.perf_counter() - t0
            log.info("recalibration cancelled after %.2f s", report.seconds)
            return (model if start is None else start), report
    judge(report, s)
    report.seconds = time.perf_counter() - t0
    for attr in ("class_names", "description"):
        if hasattr(model, attr):
            setattr(candidate, attr, copy.deepcopy(getattr(model, attr)))
    log.info("recalibration (%s) %s in %.1f s %s", method, report.status, report.seconds, report.reason)
    if progress is not None:
        progress(1.0, f"{method}: {report.status}" + (f" ({report.reason})" if report.reason else ""))
    fallback = model if start is None else start  # a rejected run keeps what was serving
    return (candidate if report.accepted else fallback), report

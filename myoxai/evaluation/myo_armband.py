"""The Myo Armband dataset's inter-subject protocol: pre-train on many people, calibrate a new one in seconds.

Pre-training: the 19 pre-training participants (round 1, all 4 cycles); early stopping on their
4th cycle (whole holds, never an evaluation participant's data). Per evaluation participant and
calibration size k (cycles of round 1): "transfer" fine-tunes a copy of the pre-trained model
(new head, early layers frozen) for a fixed step budget, "scratch" trains the same architecture
from random weights for a fixed (larger) budget, LDA fits the dataset README's own baseline (MAV, WL, ZC,
SSC, log-RMS on unfiltered windows, dead-zone at the calibration's rest noise); all are tested on
rounds 2 and 3 (Test0 + Test1). The budgets are declared up front (``ArmbandSettings``) and can be
checked on pre-training participants with ``step_curve``; they are never tuned on an evaluation
participant's test rounds. Electrode alignment (``align=True``) rolls an evaluation participant's
electrodes by the circular shift whose activity profile (per-gesture RMS, from the calibration
cycles' labels) best matches the pre-training population's template; the pre-training set is the
reference frame and stays as recorded. ``align="unlabeled"`` rolls by a shift estimated *without*
labels instead: the per-electrode energy profile of the calibration cycles (every gesture pooled,
``myoxai.adapt.rotation``) matched to the pre-training population's profile, rounded to a whole
electrode (like the labeled shift). Scratch models and LDA are trained and tested on the same person,
so a fixed electrode roll changes nothing for them: alignment is measured on transfer only.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.adapt.rotation import energy_profile, estimate_shift
from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.dsp import process_signal
from myoxai.dsp.features import MYO_ARMBAND_README, FeatureSet
from myoxai.evaluation.data import WindowSet, concat
from myoxai.evaluation.metrics import scores
from myoxai.io import myo_armband as ma
from myoxai.io.recording import Recording
from myoxai.models import LdaBaseline, MyoModel, TrainSettings, build_model, train_model
from myoxai.models.transfer import FineTuneSettings, fine_tune, transfer_copy

log = logging.getLogger(__name__)
TORCH_MODELS = ("allconvnet", "spectrogram-convnet", "scatnet", "ring-tower")
ALIGN_MODES = ("off", "on", "unlabeled")  # none, labeled circular shift, unlabeled energy-profile shift


@dataclass
class ArmbandSettings:
    """What one ``myoxai eval --dataset myo-armband`` run does."""

    models: list[str]
    trials_per_gesture: tuple[int, ...] = (1, 2, 4)
    align: tuple[str, ...] = ("off",)  # each of ALIGN_MODES, measured side by side
    pretrain: TrainSettings = field(default_factory=TrainSettings)
    transfer: FineTuneSettings = field(default_factory=lambda: FineTuneSettings(steps=200))
    scratch: FineTuneSettings = field(default_factory=lambda: FineTuneSettings(steps=300, lr=3e-3))
    participants: list[str] | None = None  # evaluation participants (default: all 17)
    cross_dataset: Path | None = None  # long-term dataset root: also pre-train there (subjects 1-4, days 1-3)
    cache: Path | None = None  # folder for pre-trained models (reused when present)
    lda_features: FeatureSet = MYO_ARMBAND_README  # the dataset README's LDA baseline, on unfiltered windows
    config: SignalConfig = DEFAULT_CONFIG

    def for_seed(self, seed: int, threads: int) -> ArmbandSettings:
        """These settings with every training step seeded with the run seed (as the budgets were fixed)."""
        return replace(self, pretrain=replace(self.pretrain, seed=seed, threads=threads),
                       transfer=replace(self.transfer, seed=seed, threads=threads),
                       scratch=replace(self.scratch, seed=seed, threads=threads))

    def to_dict(self) -> dict[str, Any]:
        """JSON description (report and cell cache key; paths stay out, the data's hashes go in)."""
        return {"models": self.models, "trials_per_gesture": list(self.trials_per_gesture), "align": list(self.align),
                "pretrain": self.pretrain.to_dict(), "transfer": asdict(self.transfer),
                "scratch": asdict(self.scratch), "cross_dataset": self.cross_dataset is not None,
                "lda_features": self.lda_features.to_dict(), "signal_config": self.config.to_dict()}


# ---------------------------------------------------------------- windows and alignment

def _rms_profile(recs: list[Recording]) -> np.ndarray:
    """(gestures, 8) mean per-channel RMS of each gesture's holds (offset removed), rows summing to 1."""
    prof = np.zeros((len(ma.GESTURES), ma.N_CHANNELS))
    for r in recs:
        x = r.samples - r.samples.mean(axis=0)
        prof[r.meta["gesture"]] += np.sqrt(np.mean(x ** 2, axis=0))
    return prof / np.maximum(prof.sum(axis=1, keepdims=True), 1e-9)


def best_shift(profile: np.ndarray, template: np.ndarray) -> int:
    """Circular shift s (aligned channel c = raw channel (c + s) mod 8) best matching the template.

    The neutral gesture (row 0, noise) is ignored; the score is the summed product of profiles.
    """
    scores_ = [float(np.sum(np.roll(profile[1:], -s, axis=1) * template[1:])) for s in range(profile.shape[1])]
    return int(np.argmax(scores_))


def population_template(profiles: list[np.ndarray], iterations: int = 3) -> np.ndarray:
    """Mean activity profile of many people after aligning each to it (started from the first person)."""
    template = profiles[0]
    for _ in range(iterations):
        template = np.mean([np.roll(p, -best_shift(p, template), axis=1) for p in profiles], axis=0)
    return template


def unlabeled_profile(recs: list[Recording]) -> np.ndarray:
    """(8,) log-RMS per electrode over every hold of ``recs`` pooled (offset of each hold removed); no labels."""
    return energy_profile(np.concatenate([r.samples - r.samples.mean(axis=0) for r in recs]))


def population_profile(people: list[list[Recording]], template: np.ndarray) -> np.ndarray:
    """Mean centred energy profile of the pre-training people, each rolled into the template's frame.

    The pre-training labels may be used (they are training data): each person is rolled by their
    labeled ``best_shift``, so the unlabeled estimate and the labeled shift share one reference frame.
    """
    profiles = []
    for recs in people:
        p = np.roll(unlabeled_profile(recs), -best_shift(_rms_profile(recs), template))
        profiles.append(p - p.mean())
    return np.mean(profiles, axis=0)


def unlabeled_shift(recs: list[Recording], reference: np.ndarray) -> tuple[int, float]:
    """The circular shift of ``recs`` against the population ``reference``, from the energy profile only.

    Returns the whole-electrode shift in ``windows_of``'s convention (aligned channel c = raw
    channel c + s, the same as ``best_shift``) and the fractional estimate it was rounded from
    (``estimate_shift``'s convention: content moved by +s, compensated by rolling by -s).
    """
    s = estimate_shift(unlabeled_profile(recs), reference)
    return int(round(s)) % len(reference), s


def windows_of(recs: list[Recording], config: SignalConfig, shift: int = 0) -> WindowSet:
    """Windows of every hold (each hold filtered and windowed on its own), electrodes rolled by ``shift``."""
    parts = []
    for r in recs:
        batch = process_signal(np.roll(r.samples, -shift, axis=1), config)
        n = len(batch)
        meta = {"subject": np.full(n, r.meta["participant"]), "round": np.full(n, ma.ROUNDS.index(r.meta["round"])),
                "cycle": np.full(n, r.meta["cycle"]), "start": batch.start}
        parts.append(WindowSet(batch.spectrograms.astype(np.float32), batch.windows.astype(np.float32),
                               np.full(n, r.meta["gesture"], dtype=np.int64), meta, ma.GESTURES))
    return concat(parts)


# ---------------------------------------------------------------- training pieces

def _inputs(model: Any, data: WindowSet) -> np.ndarray:
    return data.inputs(model.input_kind)


# Constructor arguments beyond the defaults. Ring-tower reads log power, as its live recipe does: that is
# the variant proposed as the live model (issue 23), declared here before its Myo Armband rows were scored.
_MODEL_ARGS: dict[str, dict[str, Any]] = {"ring-tower": {"log_input": True}}


def _build(name: str, n_classes: int, config: SignalConfig, seed: int) -> Any:
    return build_model(name, n_classes, seed=seed, config=config, **_MODEL_ARGS.get(name, {}))


def pretrain(name: str, data: WindowSet, config: SignalConfig, settings: TrainSettings,
             val_mask: np.ndarray) -> tuple[MyoModel, dict[str, Any]]:
    """Train ``name`` on the pre-training windows; early stopping on the whole held-out holds in ``val_mask``."""
    model = _build(name, len(data.class_names), config, settings.seed)
    report = train_model(model, _inputs(model, data), data.y, settings, val_mask=val_mask)
    report.pop("history", None)
    return model, report


def calibrate(kind: str, name: str, cal: WindowSet, config: SignalConfig, settings: ArmbandSettings,
              source: MyoModel | None = None) -> tuple[Any, dict[str, Any]]:
    """A model for one participant from their calibration windows: transfer, scratch or LDA."""
    if name == "lda":
        model = LdaBaseline(len(cal.class_names), settings.lda_features)
        model.fit(None, cal.y, features=cal.features(model.resolve_features(cal.win, cal.y)))
        return model, {}
    if kind == "scratch":
        model = _build(name, len(cal.class_names), config, settings.scratch.seed)
        return model, fine_tune(model, _inputs(model, cal), cal.y, settings.scratch)
    model = transfer_copy(source, len(cal.class_names), seed=settings.transfer.seed)
    return model, fine_tune(model, _inputs(model, cal), cal.y, settings.transfer)


def predict_on(model: Any, data: WindowSet) -> np.ndarray:
    """Predicted class of every window of ``data`` (LDA on its cached features)."""
    return np.argmax(model.logits_on(data), axis=1)


# ---------------------------------------------------------------- the protocol

def pretraining_set(root: Path, config: SignalConfig) -> tuple[WindowSet, np.ndarray, np.ndarray]:
    """Windows of all pre-training participants, their activity template and energy profile (for alignment)."""
    people = {p: ma.load_participant(root, "pre-training", p) for p in ma.participants(root, "pre-training")}
    template = population_template([_rms_profile(r) for r in people.values()])
    reference = population_profile(list(people.values()), template)
    return concat([windows_of(recs, config) for recs in people.values()]), template, reference


def cached_pretrain(name: str, data: WindowSet, config: SignalConfig, settings: TrainSettings, val_mask: np.ndarray,
                    cache: Path | None, tag: str) -> MyoModel:
    """``pretrain``, or its earlier result from ``cache``.

    The file is named by everything the model depends on: model and constructor arguments, signal
    config, every training setting (epochs, learning rate, seed, …), a hash of the training windows,
    labels and validation mask, and the code fingerprint. Training is deterministic for a seed, so
    the cache only saves time (and lets parallel runs share one pre-training); the files stay
    outside the repository (GPL-derived weights).
    """
    from myoxai.evaluation.cells import canonical
    from myoxai.evaluation.fingerprint import array_hash, code_fingerprint
    from myoxai.models import load_model, save_model

    model = _build(name, len(data.class_names), config, settings.seed)
    ident = {"model": name, "args": getattr(model, "init_args", {}), "config": config.to_dict(),
             "train": settings.to_dict(), "data": array_hash(_inputs(model, data), data.y, val_mask),
             "code": code_fingerprint()["sources"]}
    digest = hashlib.sha256(canonical(ident).encode()).hexdigest()[:16]
    path = None if cache is None else Path(cache) / f"{tag}-{name}-seed{settings.seed}-{digest}.safetensors"
    if path is not None and path.exists():
        return load_model(path, expect_config=config)
    model, report = pretrain(name, data, config, settings, val_mask)
    log.info("pre-trained %s on %s: %s", name, tag, report)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, path, data.class_names, config, training={"source": tag, "identity": ident},
                   metrics={k: report.get(k) for k in ("best_epoch", "epochs_run", "val_accuracy")})
    return model


def kanoga_source(root: Path, config: SignalConfig) -> tuple[WindowSet, np.ndarray]:
    """Long-term dataset subjects 1-4, days 1-3 (22 gestures) as a cross-dataset pre-training set; trial 4 validates."""
    from myoxai.evaluation.data import kanoga_windows

    data = kanoga_windows(root, [1, 2, 3, 4], [1, 2, 3], config)
    return data, data.meta["trial"] == 4


def participant_records(recs: list[Recording], config: SignalConfig, settings: ArmbandSettings,
                        sources: dict[tuple[str, str], MyoModel], template: np.ndarray,
                        reference: np.ndarray) -> list[dict[str, Any]]:
    """Every (k, model, variant, alignment) record of one evaluation participant (all three rounds in ``recs``).

    ``sources``: the pre-trained models by (kind, name); LDA reads the same holds without high-pass
    (``settings.lda_features``, the dataset README's baseline) and sets its dead-zone from the
    calibration windows' rest class.
    """
    torch_models = [m for m in settings.models if m in TORCH_MODELS]
    person = recs[0].meta["participant"]
    lda_data = windows_of(recs, replace(config, highpass_hz=0.0)) if "lda" in settings.models else None
    records: list[dict[str, Any]] = []
    for k in settings.trials_per_gesture:
        cal_recs = [r for r in recs if r.meta["round"] == ma.ROUNDS[0] and r.meta["cycle"] < k]
        labeled = best_shift(_rms_profile(cal_recs), template)
        estimate, fractional = unlabeled_shift(cal_recs, reference)
        for align in settings.align:
            shift = {"off": 0, "on": labeled, "unlabeled": estimate}[align]
            aligned = align != "off"
            runs = [] if aligned else [("lda", "lda", None)] if "lda" in settings.models else []
            runs += [] if aligned else [("scratch", n, None) for n in torch_models]
            runs += [(kind, n, m) for (kind, n), m in sources.items() if not (aligned and kind != "transfer")]
            if not runs:
                continue
            data = windows_of(recs, config, shift)
            for kind, name, src in runs:
                d = lda_data if kind == "lda" else data
                cal = d.subset((d.meta["round"] == 0) & (d.meta["cycle"] < k))
                test = d.subset(d.meta["round"] > 0)
                model, report = calibrate(kind, name, cal, config, settings, src)
                variant = f"{kind}-k{k}" + {"off": "", "on": "-aligned", "unlabeled": "-unlabeled-aligned"}[align]
                rec = {"dataset": "myo-armband", "subject": person, "protocol": "inter-subject", "model": name,
                       "adapt": "none",
                       "train": {"variant": variant, "kind": kind, "trials_per_gesture": k, "aligned": aligned,
                                 "alignment": align, "shift": shift, "labeled_shift": labeled,
                                 "unlabeled_shift": round(fractional, 2), "n_windows": len(cal)},
                       "test": {"rounds": list(ma.ROUNDS[1:]), "n_windows": len(test)}}
                if kind == "lda":
                    rec["train"]["feature_set"] = model.feature_set.to_dict()
                rec.update(scores(test.y, predict_on(model, test), len(test.class_names)))
                records.append(rec)
    return records


def step_curve(root: Path, config: SignalConfig, name: str, settings: TrainSettings,
               checkpoints: tuple[int, ...] = (50, 100, 200, 300, 500), n_targets: int = 5, k: int = 1
               ) -> dict[str, Any]:
    """Accuracy against fine-tuning steps, measured on pre-training participants only (to check the budgets).

    The last ``n_targets`` pre-training participants play new users: a model pre-trained on the
    others is fine-tuned on their first k cycles (and a fresh one trained from scratch), and the
    accuracy on their remaining cycles is recorded after the epoch that reaches each checkpoint.
    "transfer-unfrozen" fine-tunes every layer (at a lower learning rate) instead of freezing the early ones.
    """
    names = ma.participants(root, "pre-training")
    src_names, targets = names[:-n_targets], names[-n_targets:]
    src = concat([windows_of(ma.load_participant(root, "pre-training", p), config) for p in src_names])
    source, _ = pretrain(name, src, config, settings, src.meta["cycle"] == ma.N_CYCLES - 1)
    del src
    out: dict[str, Any] = {"model": name, "source": src_names, "targets": targets, "k": k, "curves": {}}
    for kind, base in (("transfer", FineTuneSettings(steps=max(checkpoints))),
                       ("transfer-unfrozen", FineTuneSettings(steps=max(checkpoints), lr=1e-3)),
                       ("scratch", FineTuneSettings(steps=max(checkpoints), lr=3e-3))):
        curve: dict[int, list[float]] = {c: [] for c in checkpoints}
        for person in targets:
            data = windows_of(ma.load_participant(root, "pre-training", person), config)
            cal, test = data.subset(data.meta["cycle"] < k), data.subset(data.meta["cycle"] >= k)
            if kind == "scratch":
                model = _build(name, 7, config, base.seed)
            else:
                model = transfer_copy(source, 7, frozen=0 if kind == "transfer-unfrozen" else None, seed=base.seed)
            per_epoch = -(-len(cal) // base.batch_size)
            pending = list(checkpoints)

            def at_epoch(epoch: int, _total: int, _loss: float, model: Any = model, test: WindowSet = test,
                         curve: dict = curve, pending: list = pending, per_epoch: int = per_epoch) -> None:
                while pending and epoch * per_epoch >= pending[0]:
                    curve[pending.pop(0)].append(float(np.mean(predict_on(model, test) == test.y)))

            fine_tune(model, _inputs(model, cal), cal.y, copy.copy(base), progress=at_epoch)
        out["curves"][kind] = {str(c): float(np.mean(v)) for c, v in curve.items() if v}
    return out

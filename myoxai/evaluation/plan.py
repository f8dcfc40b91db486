"""From typed evaluation options to a grid: the cells and one ``GridContext`` per run seed.

``myoxai eval`` parses its command line into ``EvalOptions`` and calls ``plan``; everything that
decides what runs lives here (protocol cells, the adaptation grid, the Myo Armband grid), so the
command only parses and prints. Options that the chosen protocol would ignore are refused, never
dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from myoxai.cliargs import parse_int_list
from myoxai.errors import MyoxaiError
from myoxai.evaluation.cells import Cell, GridContext
from myoxai.io._text import is_ascii_int

DATASETS = ("kanoga", "myo-readings", "myo-armband", "recordings", "libemg")
PROTOCOLS = ("intra-day", "inter-day", "inter-subject")


@dataclass
class EvalOptions:
    """What one ``myoxai eval`` run evaluates (the command line, typed; defaults are the command's)."""

    dataset: str
    root: Path
    protocol: str
    models: list[str] = field(default_factory=lambda: ["lda", "allconvnet"])
    subjects: list[str] | None = None  # kanoga: numbers as text; myo-readings: participant ids
    days: list[int] | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    epochs: int = 30
    threads: int = 1
    trials_per_gesture: list[int] | None = None
    incremental_every: int = 1
    incremental_models: list[str] | None = None
    adapt: list[str] = field(default_factory=lambda: ["none"])
    splits: list[str] = field(default_factory=lambda: ["12"])
    calibration_days: list[int] = field(default_factory=lambda: [1])  # kanoga --adapt
    pretrain: str = "none"  # kanoga --adapt: "others" (the root's other subjects) or "myo-armband"
    pretrain_root: Path | None = None  # --pretrain myo-armband: the unpacked Myo Armband dataset
    ensemble: int = 1  # members of each trained model (myoxai.models.ensemble); 1 = one model
    channels: list[int] | None = None
    adapt_epochs: int | None = None
    adapt_patience: int | None = None
    model_cache: str | None = None
    signal: str = "default"  # myo-armband
    align: list[str] = field(default_factory=lambda: ["off"])
    cross_dataset: Path | None = None
    pretrained_cache: Path | None = None
    participants: list[str] | None = None

    @property
    def adapting(self) -> bool:
        """Whether this is an adaptation run (``--adapt`` other than ``none``)."""
        return self.adapt != ["none"]


@dataclass
class Plan:
    """The cells, one context per run seed, and what kind of grid it is (for the summary)."""

    cells: list[Cell]
    contexts: list[GridContext]
    kind: str  # "protocol", "adapt" or "armband"


# option -> (is it set?, the datasets/modes it applies to)
def _ignored(o: EvalOptions) -> list[str]:
    armband = o.dataset == "myo-armband"
    checks = {
        "--adapt": (o.adapting, not armband),
        "--splits": (o.splits != ["12"], o.adapting and o.dataset == "kanoga"),
        "--calibration-days": (o.calibration_days != [1], o.adapting and o.dataset == "kanoga"),
        "--pretrain": (o.pretrain != "none", o.adapting and o.dataset == "kanoga"),
        "--pretrain-root": (o.pretrain_root is not None, o.adapting and o.pretrain == "myo-armband"),
        "--channels": (o.channels is not None, o.adapting),
        "--adapt-epochs": (o.adapt_epochs is not None, o.adapting),
        "--adapt-patience": (o.adapt_patience is not None, o.adapting),
        "--model-cache": (o.model_cache is not None, o.adapting),
        "--incremental-every": (o.incremental_every != 1, o.protocol == "inter-day" and not o.adapting and not armband),
        "--incremental-models": (o.incremental_models is not None,
                                 o.protocol == "inter-day" and not o.adapting and not armband),
        "--trials-per-gesture": (o.trials_per_gesture is not None, o.protocol == "inter-subject"),
        "--signal": (o.signal != "default", armband),
        "--align": (o.align != ["off"], armband),
        "--cross-dataset": (o.cross_dataset is not None, armband),
        "--pretrained-cache": (o.pretrained_cache is not None, armband),
        "--participants": (o.participants is not None, armband),
        "--ensemble": (o.ensemble != 1, o.dataset in ("kanoga", "myo-readings") and o.pretrain == "none" and (
            o.dataset == "kanoga" if o.adapting else o.protocol == "intra-day")),
        "--subjects": (o.subjects is not None, not armband),
        "--days": (o.days is not None, not armband),
    }
    return [name for name, (given, applies) in checks.items() if given and not applies]


def check_models(models: list[str], allowed: tuple[str, ...] | None = None) -> list[str]:
    """``models`` if every name is a known model (and in ``allowed``); else a ``MyoxaiError``."""
    from myoxai.models import MODEL_NAMES

    allowed = allowed or tuple(MODEL_NAMES)
    unknown = [m for m in models if m not in allowed]
    if unknown or not models:
        raise MyoxaiError(f"--models: unknown {unknown}; choose from {', '.join(allowed)}")
    return models


def plan(o: EvalOptions) -> Plan:
    """The grid of ``o``; refuses options the protocol would ignore and selections that give nothing."""
    if o.dataset not in DATASETS or o.protocol not in PROTOCOLS:
        raise MyoxaiError(f"--dataset {o.dataset} --protocol {o.protocol}: choose from {DATASETS} and {PROTOCOLS}")
    ignored = _ignored(o)
    if ignored:
        raise MyoxaiError(f"{', '.join(ignored)} {'does' if len(ignored) == 1 else 'do'} not apply to --dataset "
                          f"{o.dataset} --protocol {o.protocol}"
                          f"{' with --adapt' if o.adapting else ''}; leave them out")
    if not o.seeds or len(set(o.seeds)) != len(o.seeds):
        raise MyoxaiError(f"--seeds {o.seeds}: give distinct seeds, e.g. 0,1,2")
    if o.dataset == "myo-armband":
        from myoxai.evaluation import myo_armband_run as arm

        if o.protocol != "inter-subject":
            raise MyoxaiError("--dataset myo-armband supports --protocol inter-subject (its paper's protocol)")
        contexts = arm.armband_contexts(o.root, o.models, tuple(o.trials_per_gesture or (1, 2, 4)), o.align,
                                        o.signal, o.epochs, o.seeds, o.threads, o.participants, o.cross_dataset,
                                        o.pretrained_cache)
        return Plan(arm.armband_cells(o.participants), contexts, "armband")
    cells, settings = _adapt_grid(o) if o.adapting else _protocol_grid(o)
    if o.ensemble != 1:
        cells = _with_ensemble(o, cells)
    if not cells:
        raise MyoxaiError("the selection gives nothing to evaluate; check --subjects/--days")
    contexts = []
    for seed in o.seeds:
        s = replace(settings, seed=seed)
        if o.adapting:
            s = replace(s, recal=replace(s.recal, seed=seed))
        contexts.append(GridContext(o.dataset, str(o.root), seed, o.threads, s, _settings_key(o, s)))
    return Plan(cells, contexts, "adapt" if o.adapting else "protocol")


def _with_ensemble(o: EvalOptions, cells: list[Cell]) -> list[Cell]:
    """Refuse what an ensemble cannot be; mark intra-day cells (their cache key sees K, their seed does not)."""
    from myoxai.adapt.methods import resolve
    from myoxai.models.ensemble import check_members

    for m in o.models:
        check_members(o.ensemble, m)
    if single := [m for m in o.adapt if not resolve(m).ensembles]:
        raise MyoxaiError(f"--ensemble: --adapt {','.join(single)} adapts one network (online T3A, DANN, SCADANN); "
                          "leave it out or drop --ensemble")
    if o.adapting:  # the adaptation settings carry K (cache key, calibration file, records)
        return cells
    return [replace(c, params={**c.params, "ensemble": o.ensemble}, label=f"{c.label} ensemble of {o.ensemble}")
            for c in cells]


def _settings_key(o: EvalOptions, settings: Any) -> dict[str, Any]:
    """Settings plus what else shapes the records: each model's recipe and the LDA's feature set."""
    from myoxai.evaluation.protocols import lda_features
    from myoxai.models.recipes import recipe

    recipes = {}
    for m in o.models:
        args, train = recipe(m)
        recipes[m] = {"args": args, "train": train.to_dict()}
    return {**settings.to_dict(), "recipes": recipes, "lda_features": lda_features(o.dataset).to_dict()}


def _kanoga_subjects(o: EvalOptions) -> list[int]:
    from myoxai.io.kanoga import available_subjects

    try:
        subjects = (parse_int_list(",".join(o.subjects), "subjects") or []) if o.subjects \
            else available_subjects(o.root)
    except ValueError:
        raise MyoxaiError(f"--subjects {','.join(o.subjects or [])}: the long-term dataset's subjects are numbers, "
                          "e.g. 1-4") from None
    if not subjects:
        raise MyoxaiError(f"no subN folders under {o.root}; point --root at the unpacked long-term dataset")
    return subjects


def myo_sessions(root: Path, subjects: list[str] | None, sessions: list[int] | None) -> list[tuple[int, int]]:
    """(participant, session) pairs present under ``root`` that match the selection."""
    from myoxai.io.myo_readings import session_dirs

    wanted = set(subjects) if subjects else None
    pairs = []
    for folder in session_dirs(root):
        pid, _, sess = folder.name.partition("-")
        if is_ascii_int(pid) and is_ascii_int(sess) and (wanted is None or pid in wanted) \
                and (not sessions or int(sess) in sessions):
            pairs.append((int(pid), int(sess)))
    if wanted and (missing := wanted - {str(p) for p, _ in pairs}):
        raise MyoxaiError(f"--subjects: no sessions of {sorted(missing)} under {root}")
    return sorted(pairs)


def _own(o: EvalOptions) -> dict[str, list]:
    """Own sessions of the selected people (``--subjects``) limited to ``--days`` (inter-day keeps session 1)."""
    from myoxai.evaluation import own_sessions

    found = own_sessions.sessions(o.dataset, o.root, o.subjects)
    first = 1 if o.protocol == "inter-day" else None
    return {p: [s for s in ss if not o.days or s.index in o.days or s.index == first] for p, ss in found.items()}


def _protocol_grid(o: EvalOptions) -> tuple[list[Cell], Any]:
    from myoxai.evaluation import own_sessions, protocols
    from myoxai.models import TrainSettings

    models = check_models(o.models)
    settings = TrainSettings(epochs=o.epochs, seed=o.seeds[0], threads=o.threads)
    if o.dataset == "kanoga":
        subjects = _kanoga_subjects(o)
        if o.protocol == "intra-day":
            return protocols.kanoga_intra_day(subjects, o.days or [1], models), settings
        if o.protocol == "inter-day":
            return protocols.kanoga_inter_day(subjects, o.days or [1], models, o.incremental_every,
                                              o.incremental_models), settings
        ks = tuple(o.trials_per_gesture or (1, 2, 4))
        return protocols.kanoga_inter_subject(subjects, o.days or [1], models, ks), settings
    if o.dataset in own_sessions.DATASETS:
        return own_sessions.PROTOCOLS[o.protocol](o.dataset, _own(o), models), settings
    sessions = myo_sessions(o.root, o.subjects, o.days)
    if o.protocol == "intra-day":
        return protocols.myo_readings_intra_session(sessions, models), settings
    if o.protocol == "inter-day":
        return protocols.myo_readings_inter_session(sessions, models), settings
    raise MyoxaiError("inter-subject is implemented for the long-term dataset and the Myo Armband dataset "
                      "(--dataset kanoga or myo-armband)")


def _adapt_grid(o: EvalOptions) -> tuple[list[Cell], Any]:
    """The adaptation evaluation's cells (calibration: kanoga ``--calibration-days``, default day 1; session 1).

    The calibration model follows ``adaptation.recipe_settings`` (chosen on the selection days) with
    ``--epochs`` as its cap; pseudo-label settings are ``adaptation.pseudo_settings`` per dataset.
    One model per run: the methods adapt that model, and a second model would be a second table.
    """
    from myoxai.adapt import RecalibrationSettings
    from myoxai.evaluation import adaptation

    if o.protocol != "inter-day":
        raise MyoxaiError("--adapt evaluates the inter-day protocol (kanoga: day 1 → later days; myo-readings: "
                          "session 1 → 2, 3); use --protocol inter-day")
    methods = adaptation.parse_methods(",".join(o.adapt))
    models = check_models(o.models)
    from myoxai.models import SPECTROGRAM_MODELS

    if len(models) != 1 or models[0] not in SPECTROGRAM_MODELS:
        raise MyoxaiError(f"--adapt adapts one torch spectrogram model ({', '.join(SPECTROGRAM_MODELS)}); got "
                          f"--models {','.join(models)}: run once per model")
    recal = replace(RecalibrationSettings(), seed=o.seeds[0], threads=o.threads,
                    pseudo=adaptation.pseudo_settings(o.dataset))
    if o.adapt_epochs is not None:
        recal = replace(recal, max_epochs=o.adapt_epochs)
    if o.adapt_patience is not None:
        recal = replace(recal, patience=o.adapt_patience)
    base = adaptation.recipe_settings(models[0], o.seeds[0], o.threads)
    model_args = {**base.model_args, "channels": o.channels} if o.channels else base.model_args
    settings = replace(base, model_args=model_args, train=replace(base.train, epochs=o.epochs), recal=recal,
                       cache_dir=o.model_cache, ensemble=o.ensemble)
    from myoxai.evaluation import own_sessions

    if o.dataset in own_sessions.DATASETS:
        return own_sessions.adapt_cells(o.dataset, _own(o), methods), settings
    if o.dataset == "kanoga":
        if not o.splits or any(not is_ascii_int(sp) or not set(sp) <= set("1234") for sp in o.splits):
            raise MyoxaiError(f"--splits {','.join(o.splits)}: adaptation trials per split, e.g. 12,34")
        cal = o.calibration_days
        days = o.days or range(max(cal) + 1, 31)  # default: every day after the calibration
        from myoxai.io.kanoga import available_subjects

        return adaptation.kanoga_cells(_kanoga_subjects(o), days, methods, o.splits, cal, o.pretrain,
                                       available_subjects(o.root), o.pretrain_root), settings
    pairs = myo_sessions(o.root, o.subjects, None)
    without_first = sorted({p for p, _ in pairs} - {p for p, k in pairs if k == 1})
    if without_first:
        raise MyoxaiError(f"participants {without_first} have no session 1 under {o.root} (the calibration)")
    from myoxai.evaluation.adaptation_myo import myo_readings_cells

    return myo_readings_cells([(p, k) for p, k in pairs if not o.days or k in o.days], methods), settings

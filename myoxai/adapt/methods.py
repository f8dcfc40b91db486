"""The adaptation methods as a registry of composed steps: what ``--adapt NAME`` and the live buttons run.

A method is a tuple of steps applied in order to a copy of the serving model; each step is a
small function ``step(model, ctx) -> model`` that reads what it needs from the ``AdaptContext``
(the unlabeled buffer, the calibration data, the reference energy profile, a seed) and writes what
it did into ``ctx.report``. Flags say what a method needs from its caller:

- ``needs_labels``: it trains on the adaptation windows' labels (an upper bound or a labeled
  recalibration); every other method is handed no labels at all;
- ``carries_state``: it keeps something from one test day to the next in ``ctx.state``
  (SCADANN's pseudo-label replay), so an evaluation must walk a subject's days in order;
- ``needs_source``: it replays the labeled calibration data (``SourceData``);
- ``ensembles``: on an ensemble (``myoxai.models.ensemble``) it runs on each member, with its own
  copy of the context and the same seed, and returns the ensemble of the adapted members (``run``);
  the report keeps each member's report under ``members`` and the members' mean of every number.

``DEFAULT_PIPELINE`` names the method the live Quick adapt button applies and ``--adapt default``
evaluates: both call ``METHODS[DEFAULT_PIPELINE].run``, so they cannot drift apart.

Adding a method is one step function (if new) and one line in ``METHODS``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from myoxai.adapt import quick
from myoxai.adapt.dann import TARGET, merge_batchnorm, split_batchnorm
from myoxai.adapt.labeled import default_fine_tune, first_holds, recalibrate_35s
from myoxai.adapt.loop import LoopData, adversarial_fit
from myoxai.adapt.prototypes import OnlineT3A, features_and_logits, kmeans_head, prior_bias, support_index
from myoxai.adapt.recalibrate import RecalibrationSettings, SourceData, recalibrate
from myoxai.errors import MyoxaiError
from myoxai.models import MyoModel, torch_threads
from myoxai.models.ensemble import EnsembleModel


@dataclass
class AdaptContext:
    """What a method's steps may read (inputs) and write (``report``, ``state``).

    Attributes
    ----------
    x:
        (n, 4, 8, 10) spectrograms of the adaptation buffer, in recording order.
    source:
        The labeled calibration data, for methods that replay it.
    labels:
        The buffer's true labels; given only to ``needs_labels`` methods (None otherwise).
    reference_profile:
        Calibration energy profile the rotation is measured against (default: the model file's,
        else ``source``'s training part).
    seed:
        Seed of every stochastic step.
    recal:
        SCADANN / DANN / labeled-loop settings.
    state:
        What a ``carries_state`` method keeps from one test day to the next.
    report:
        What the steps did (rotation shift, prototype supports, acceptance...), plain JSON values.
    original:
        The model the method started from (set by ``AdaptMethod.run``).
    """

    x: np.ndarray
    source: SourceData | None = None
    labels: np.ndarray | None = None
    reference_profile: np.ndarray | None = None
    seed: int = 0
    recal: RecalibrationSettings = field(default_factory=RecalibrationSettings)
    state: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    original: Any = None


Step = Callable[[MyoModel, AdaptContext], MyoModel]


@dataclass(frozen=True)
class AdaptMethod:
    """A named pipeline of steps and what it needs from its caller."""

    steps: tuple[Step, ...]
    summary: str
    needs_labels: bool = False
    carries_state: bool = False
    needs_source: bool = False
    transductive: bool = False  # the returned model keeps adapting on the windows it scores (online T3A)
    ensembles: bool = True  # runs on an ensemble member by member

    def run(self, model: MyoModel, ctx: AdaptContext) -> MyoModel:
        """The adapted model (the caller's ``model`` is never changed); ``ctx.report`` says what was done."""
        if self.needs_labels and (ctx.labels is None or len(ctx.labels) != len(ctx.x)):
            raise MyoxaiError("this adaptation method needs one label per adaptation window")
        if self.needs_source and ctx.source is None:
            raise MyoxaiError("this adaptation method needs the model's labeled calibration data")
        members = getattr(model, "ensemble_members", None)
        if members is not None:
            return self._run_members(model, members, ctx)
        ctx.original = model
        t0 = time.perf_counter()
        out = model
        for step in self.steps:
            out = step(out, ctx)
        ctx.report.setdefault("n_target", int(len(ctx.x)))
        ctx.report["adapt_seconds"] = time.perf_counter() - t0
        return out

    def _run_members(self, model: Any, members: tuple[MyoModel, ...], ctx: AdaptContext) -> Any:
        """Each member adapted on its own copy of ``ctx`` (same seed and rotation reference); their ensemble."""
        if not self.ensembles:
            ok = ", ".join(n for n, m in METHODS.items() if m.ensembles)
            raise MyoxaiError(f"this adaptation method does not run on an ensemble model (online T3A, DANN and "
                              f"SCADANN adapt one network); choose one of {ok}, default")
        t0 = time.perf_counter()
        ref = ctx.reference_profile if ctx.reference_profile is not None else quick.reference_profile(model,
                                                                                                     ctx.source)
        states = ctx.state.setdefault("members", [{} for _ in members])
        subs = [replace(ctx, reference_profile=ref, state=states[i], report={}, original=None)
                for i in range(len(members))]
        adapted = [self.run(m, sub) for m, sub in zip(members, subs, strict=True)]
        ctx.original = model
        ctx.report.update(merge_reports([sub.report for sub in subs]))
        ctx.report["n_target"] = int(len(ctx.x))
        ctx.report["adapt_seconds"] = time.perf_counter() - t0
        if all(a is m for a, m in zip(adapted, members, strict=True)):
            return model  # nothing changed (``none``): the caller's ensemble itself, as for one model
        out = EnsembleModel.of(adapted)
        for attr in ("class_names", "description"):
            if hasattr(model, attr):
                setattr(out, attr, copy.deepcopy(getattr(model, attr)))
        return out


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The members' reports as one: each under ``members``, the mean of every number at the top.

    Values every member shares are kept as they are; other numbers (e.g. ``rotation_shift``) and
    equal-length lists of numbers (``prototype_supports``) are averaged; ``support_index`` is pooled
    per class (diagnosis).
    """
    def number(v: Any) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    out: dict[str, Any] = {}
    for key in reports[0]:
        vals = [r.get(key) for r in reports]
        if key == "support_index":
            out[key] = [sum((list(v[k]) for v in vals), []) for k in range(len(vals[0]))]
        elif not isinstance(vals[0], np.ndarray) and all(v == vals[0] for v in vals):
            out[key] = vals[0]
        elif all(number(v) for v in vals):
            out[key] = float(np.mean(vals))
        elif all(isinstance(v, list) and v and all(number(a) for a in v) and len(v) == len(vals[0]) for v in vals):
            out[key] = np.mean(np.asarray(vals, dtype=np.float64), axis=0).tolist()
    drop = ("support_index", "pseudo_labels", "adapt_seconds")  # diagnosis pooled above; timings stay out of records
    out["members"] = [{k: v for k, v in r.items() if k not in drop} for r in reports]
    return out


# ---------------------------------------------------------------- steps
def rotate(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """Compensate the armband's rotation estimated from the buffer's energy profile."""
    ref = ctx.reference_profile if ctx.reference_profile is not None else quick.reference_profile(model, ctx.source)
    if ref is None:
        ctx.report["reason"] = "no calibration energy profile in the model: rotation not estimated"
        return model
    net, ctx.report["rotation_shift"] = quick.compensate_rotation(model, ctx.x, ref)
    return net


def renorm(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """Re-fit the per-electrode standardiser and the BatchNorm statistics on the buffer."""
    ctx.report["renormalized"] = True
    return quick.renormalize(model, ctx.x)


def adabn(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """Re-estimate the BatchNorm statistics only (AdaBN)."""
    return quick.renormalize(model, ctx.x, standardizer=False)


def prototypes(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """The T3A-style prototype head: head rows become prototypes of the buffer's most confident windows."""
    ctx.report["support_index"] = support_index(features_and_logits(model, ctx.x)[1])  # for diagnosis only
    net, ctx.report["prototype_supports"] = quick.prototype_head(model, ctx.x)
    return net


def em_priors(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """The head's bias from the buffer's class priors estimated by EM (Saerens et al. 2002)."""
    net, prior = prior_bias(model, ctx.x)
    ctx.report["em_prior_max"] = float(prior.max())
    return net


def kmeans(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """Prototypes iterated by spherical soft k-means on the buffer, from the head's rows."""
    net, ctx.report["kmeans_iterations"] = kmeans_head(model, ctx.x)
    return net


def online_t3a(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """T3A as published: the buffer joins the supports, then each scored window joins before it is classified."""
    net = OnlineT3A(model)
    net.observe(ctx.x)
    return net


def calibrate_35s(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """Quick adapt on the buffer, then fine-tuning on its first hold of each gesture (trial 1, long-term dataset)."""
    idx = first_holds(ctx.labels)
    settings = replace(default_fine_tune(), seed=ctx.seed, threads=ctx.recal.threads)
    net, report = recalibrate_35s(model, ctx.x[idx], ctx.labels[idx], buffer=ctx.x,
                                  reference_profile=ctx.reference_profile, source=ctx.source, settings=settings)
    ctx.report.update({"labeled_windows": int(len(idx)), "fine_tune_seconds": report.seconds,
                       "rotation_shift": report.settings.get("rotation_shift")})
    return net


def tent(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """Entropy minimisation over the BatchNorm affine parameters."""
    return quick.tent(model, ctx.x, quick.TentSettings(seed=ctx.seed))


def labeled_loop(model: MyoModel, ctx: AdaptContext) -> MyoModel:
    """The self-calibration loop from the calibration model with the buffer's true labels (an upper bound)."""
    from myoxai.models.training import stratified_split

    s, source = ctx.recal, ctx.source
    net = copy.deepcopy(model)
    split_batchnorm(net)
    tr, va = source.validation_split(s.val_fraction, s.seed)
    ttr, tva = stratified_split(ctx.labels, s.val_fraction, s.seed)
    x, y = ctx.x, ctx.labels
    data = LoopData(source.x[tr], source.y[tr], x[ttr], y[ttr], source.x[va], source.y[va], x[tva], y[tva])
    with torch_threads(s.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(s.seed)
        adversarial_fit(net, data, lam=s.domain_weight, ce_weight=s.ce_weight, lr=s.lr, betas=s.betas,
                        batch_size=s.batch_size, max_epochs=s.max_epochs, patience=s.patience, seed=s.seed)
    merge_batchnorm(net, TARGET)
    return net.eval()


_REPORTED = ("status", "reason", "coverage", "agreement", "source_val_accuracy_before", "source_val_accuracy_after",
             "n_replay")


def _recalibration(kind: str, replay: bool = False) -> Step:
    """DANN or SCADANN from the original model, its target domain starting from the current one.

    A rejected run keeps the current model, as live. With ``replay`` the pseudo-labels of accepted
    runs are replayed on later days (``ctx.state['replay']``).
    """
    def step(model: MyoModel, ctx: AdaptContext) -> MyoModel:
        src = ctx.state.get("replay", ctx.source) if replay else ctx.source
        start = None if model is ctx.original else model
        used, report = recalibrate(ctx.original, src, ctx.x, method=kind, settings=ctx.recal, start=start)
        ctx.report.update({k: v for k, v in report.to_dict().items() if k in _REPORTED})
        ctx.report["pseudo_labels"] = report.labels  # for diagnosis only; never an input to a step
        if replay and report.accepted and report.labels is not None:
            keep = report.labels >= 0
            ctx.state["replay"] = src.with_replay(ctx.x[keep], report.labels[keep], ctx.recal.replay_limit)
        return used

    step.__name__ = f"{kind}{'_replay' if replay else ''}"
    return step


# ---------------------------------------------------------------- the registry
METHODS: dict[str, AdaptMethod] = {
    "none": AdaptMethod((), "the calibration model as is"),
    "renorm": AdaptMethod((renorm,), "standardiser + AdaBN re-fitted on the buffer"),
    "adabn": AdaptMethod((adabn,), "BatchNorm statistics re-fitted on the buffer"),
    "rotate": AdaptMethod((rotate,), "rotation compensation"),
    "quick": AdaptMethod((rotate, renorm), "rotation compensation, then re-normalisation"),
    "proto": AdaptMethod((prototypes,), "T3A-style prototype head on the calibration model"),
    "quick+proto": AdaptMethod((rotate, renorm, prototypes), "quick, then the T3A-style prototype head"),
    "tent": AdaptMethod((tent,), "TENT from the calibration model"),
    "quick+tent": AdaptMethod((rotate, renorm, tent), "quick, then TENT"),
    "dann": AdaptMethod((_recalibration("dann"),), "DANN with safeguards", needs_source=True, ensembles=False),
    "scadann": AdaptMethod((_recalibration("scadann"),), "SCADANN with safeguards", needs_source=True, ensembles=False),
    "scadann+quick": AdaptMethod((rotate, renorm, _recalibration("scadann")), "SCADANN from the quick model",
                                 needs_source=True, ensembles=False),
    "scadann-acc": AdaptMethod((_recalibration("scadann", replay=True),),
                               "SCADANN replaying earlier accepted days' pseudo-labels", needs_source=True,
                               carries_state=True, ensembles=False),
    "quick+proto+em": AdaptMethod((rotate, renorm, prototypes, em_priors), "quick+proto with EM class priors"),
    "quick+proto3": AdaptMethod((rotate, renorm, prototypes, prototypes, prototypes),
                                "quick, then the prototype head iterated 3 times (supports re-chosen each time)"),
    "quick+kmeans": AdaptMethod((rotate, renorm, kmeans), "quick, then prototypes iterated by soft k-means"),
    "quick+kmeans+em": AdaptMethod((rotate, renorm, kmeans, em_priors), "quick+kmeans with EM class priors"),
    "quick+online-t3a": AdaptMethod((rotate, renorm, online_t3a), "quick, then online T3A (transductive)",
                                    transductive=True, ensembles=False),
    "calibrate-35s": AdaptMethod((calibrate_35s,), "quick, then fine-tuning on one labeled hold per gesture",
                                 needs_labels=True),
    "calibrate-35s+proto": AdaptMethod((calibrate_35s, prototypes),
                                       "calibrate-35s, then the T3A-style prototype head on the unlabeled buffer",
                                       needs_labels=True),
    "labeled": AdaptMethod((labeled_loop,), "upper bound: self-calibration with the buffer's true labels",
                           needs_labels=True, needs_source=True),
}

# What the Quick adapt button applies and ``--adapt default`` evaluates. Chosen on the long-term
# dataset's selection days (subjects 1-4, days 3-8, 24 subject-days): quick 65.2, quick + prototypes
# 68.5 (30 supports per class; 20 and 50 gave 68.2 and 68.4). SCADANN on top of quick lowered the mean
# there (65.5 vs 68.2, days 3-5), so Recalibrate offers SCADANN's result for Accept/Revert instead.
DEFAULT_PIPELINE = "quick+proto"


def method_names() -> tuple[str, ...]:
    """Every name ``--adapt`` accepts: the registry's, then ``default``."""
    return (*METHODS, "default")


def resolve(name: str) -> AdaptMethod:
    """The registered method of ``name`` (``default`` = ``DEFAULT_PIPELINE``)."""
    key = DEFAULT_PIPELINE if name == "default" else name
    if key not in METHODS:
        raise MyoxaiError(f"unknown adaptation method {name!r}; choose one of {', '.join(method_names())}")
    return METHODS[key]

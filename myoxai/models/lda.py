"""LDA baseline on classic time-domain features (the dataset authors' TD+AR protocol by default).

scikit-learn fits it; afterwards the model is nothing but arrays (coefficients, intercept,
class means, priors), so it is stored in safetensors like the networks and predicts with one
matrix product. For a multi-class LDA this is exactly scikit-learn's ``decision_function`` and
its ``predict_proba`` is the softmax of it, so nothing is lost by not keeping the sklearn object.

The ZC/SSC dead-zone is data-dependent by default (``TD_AR_REST``): ``fit`` sets it to the rest noise
of the training windows (class ``REST_CLASS``) and keeps the resolved feature set in ``init_args``, so
the model file stores the number and every later prediction applies it from there.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from myoxai.dsp.features import TD_AR_REST, FeatureSet, td_features
from myoxai.models.base import WINDOW

REST_CLASS = 0  # rest / neutral is class 0 in every dataset reader (M1, label 0, gesture 0)


class LdaBaseline:
    """Linear discriminant analysis on ``td_features(windows, feature_set)``.

    Parameters
    ----------
    n_classes:
        Number of gestures (classes absent from training data get a score of -inf).
    feature_set:
        Which time-domain features (a ``FeatureSet`` or its dict form); a ``"rest"`` dead-zone is set by
        ``fit`` (default: the TD+AR features with the dead-zone at the rest noise).
    """

    name = "lda"
    input_kind = WINDOW
    first_conv = None
    explainable = False  # not a torch module: the explainers of ``myoxai.explain`` do not run on it

    def __init__(self, n_classes: int, feature_set: FeatureSet | dict[str, Any] = TD_AR_REST) -> None:
        self.n_classes = int(n_classes)
        self.feature_set = feature_set if isinstance(feature_set, FeatureSet) else FeatureSet.from_dict(feature_set)
        self.init_args = {"feature_set": self.feature_set.to_dict()}
        self.coef: np.ndarray | None = None  # (n_classes, n_features)
        self.intercept: np.ndarray | None = None  # (n_classes,)
        self.means: np.ndarray | None = None
        self.priors: np.ndarray | None = None

    def featurize(self, windows: np.ndarray) -> np.ndarray:
        """The time-domain feature rows of ``windows``."""
        return td_features(windows, self.feature_set)

    def resolve_features(self, windows: np.ndarray, y: np.ndarray) -> FeatureSet:
        """Set a ``"rest"`` dead-zone from the training windows of class ``REST_CLASS``; the resolved set.

        Without rest windows in the training data the quietest tenth of the windows (by RMS) stands in.
        A set without data-dependent parameters is returned unchanged.
        """
        if self.feature_set.data_dependent:
            w = np.asarray(windows)
            rest = w[np.asarray(y) == REST_CLASS]
            if not len(rest):
                energy = np.sqrt(np.mean(w.astype(np.float64) ** 2, axis=(1, 2)))
                rest = w[energy <= np.quantile(energy, 0.1)]
            self.feature_set = self.feature_set.with_rest_deadzone(rest)
            self.init_args = {"feature_set": self.feature_set.to_dict()}
        return self.feature_set

    def fit(self, windows: np.ndarray | None, y: np.ndarray, features: np.ndarray | None = None) -> LdaBaseline:
        """Fit on windows (or precomputed ``features`` of them, after ``resolve_features``) and labels."""
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        if features is None:
            self.resolve_features(windows, y)
        elif self.feature_set.data_dependent:
            raise ValueError("features were computed before the dead-zone was set: call resolve_features first")
        x = self.featurize(windows) if features is None else features
        lda = LinearDiscriminantAnalysis(solver="svd").fit(x, y)
        classes = lda.classes_.astype(int)
        coef = lda.coef_ if len(classes) > 2 else np.vstack([-lda.coef_, lda.coef_]) / 2
        intercept = lda.intercept_ if len(classes) > 2 else np.array([-lda.intercept_[0], lda.intercept_[0]]) / 2
        self.coef = np.zeros((self.n_classes, x.shape[1]))
        self.intercept = np.full(self.n_classes, -np.inf)
        self.means = np.zeros((self.n_classes, x.shape[1]))
        self.priors = np.zeros(self.n_classes)
        self.coef[classes], self.intercept[classes] = coef, intercept
        self.means[classes], self.priors[classes] = lda.means_, lda.priors_
        return self

    def decision(self, features: np.ndarray) -> np.ndarray:
        """Class scores (n, n_classes) of feature rows; softmax of these are the probabilities."""
        if self.coef is None:
            raise RuntimeError("LDA is not fitted")
        return features @ self.coef.T + self.intercept

    def logits(self, windows: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Class scores of raw windows (``batch_size`` is accepted for the model interface; one product suffices)."""
        return self.decision(self.featurize(windows))

    def logits_on(self, data: Any) -> np.ndarray:
        """Class scores on every window of a window set, from its cached ``features(feature_set)``."""
        return self.decision(data.features(self.feature_set))

    def train_on(self, x: np.ndarray, y: np.ndarray, settings: Any = None, **_: Any) -> dict[str, Any]:
        """Fit in closed form (the trainer's settings, standardiser and validation split do not apply)."""
        t0 = time.perf_counter()
        self.fit(x, y)
        return {"model": self.name, "n_train": int(len(y)), "seconds": time.perf_counter() - t0}

    def fit_on(self, data: Any, settings: Any = None, **_: Any) -> dict[str, Any]:
        """Fit on a window set's cached features and labels ``data.y`` (any rest-noise dead-zone set from ``data``)."""
        self.fit(None, data.y, features=data.features(self.resolve_features(data.win, data.y)))
        return {"model": self.name, "n_train": len(data)}

    def n_parameters(self) -> int:
        """Number of fitted values (0 before fitting)."""
        return 0 if self.coef is None else int(self.coef.size + self.intercept.size)

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to predict, as plain arrays (for safetensors); an unfitted LDA is a ValueError."""
        if self.coef is None:
            raise ValueError("cannot save an unfitted LDA")
        return {"coef": self.coef, "intercept": self.intercept, "means": self.means, "priors": self.priors}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore the fitted arrays from a model file; a missing array is a KeyError."""
        missing = {"coef", "intercept", "means", "priors"} - set(arrays)
        if missing:
            raise KeyError(f"LDA arrays missing {sorted(missing)}")
        self.coef = np.asarray(arrays["coef"], dtype=np.float64)
        self.intercept = np.asarray(arrays["intercept"], dtype=np.float64)
        self.means = np.asarray(arrays["means"], dtype=np.float64)
        self.priors = np.asarray(arrays["priors"], dtype=np.float64)

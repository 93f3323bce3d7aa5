# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Reward-model metrics (docs/method.md#reward-model-metrics).

- voc(): value-order consistency, the Spearman rank correlation between frame order and
  predicted progress (NaN counts as 0). VOC- is the same metric on progress predicted for the
  time-reversed episode; the model runs there, so it is computed by the evaluation, with this
  function, on the reversed predictions.
- classify_completion() and completion_accuracy(): SUCCESS / PARTIAL / FAIL of a rollout from
  its progress curve, and the accuracy against human labels; with a success.SuccessConfig,
  SUCCESS is what the automatic success detector (hysteresis) decides instead of the paper's
  final-value rule.
- outcome_ranking(): does final progress order rollouts of mixed outcome as their outcomes do?
  Kendall tau-b (scipy.stats.kendalltau) between outcome rank (fail < partial < success) and
  final progress, the success-vs-fail gap of mean final progress, and the distribution of final
  progress per outcome.
"""

import math
from typing import Iterable, Optional, Sequence, Union

import numpy as np
from robodopamine_ros.reward.success import first_success, SuccessConfig

SUCCESS, PARTIAL, FAIL = 'success', 'partial', 'fail'
OUTCOMES = (SUCCESS, PARTIAL, FAIL)


def _ranks(values):
    """Average ranks (ties share the mean of their positions), as Spearman needs."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind='mergesort')
    sorted_values = values[order]
    ranks = np.empty(len(values))
    start = 0
    while start < len(values):
        stop = start + 1
        while stop < len(values) and sorted_values[stop] == sorted_values[start]:
            stop += 1
        ranks[order[start:stop]] = (start + stop - 1) / 2.0
        start = stop
    return ranks


def spearman(x: Union[Sequence[float], np.ndarray],
             y: Union[Sequence[float], np.ndarray]) -> float:
    """Spearman rank correlation of two equally long sequences; NaN when undefined."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f'spearman needs two 1-D sequences of equal length, got {x.shape} '
                         f'and {y.shape}')
    if len(x) < 2 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return math.nan
    rx, ry = _ranks(x) - (len(x) - 1) / 2.0, _ranks(y) - (len(y) - 1) / 2.0
    denominator = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return float(rx @ ry) / denominator if denominator > 0 else math.nan


def voc(progress: Union[Sequence[float], np.ndarray],
        frame_ids: Optional[Union[Sequence[int], np.ndarray]] = None) -> float:
    """
    Value-order consistency of predicted progress over an episode's frames.

    frame_ids default to 0..T-1 (the order the values were predicted in). A NaN result
    (constant predictions, or NaN among them) counts as 0.
    """
    progress = np.asarray(progress, dtype=float)
    if progress.ndim != 1 or len(progress) < 2:
        raise ValueError(f'VOC needs at least two progress values, got shape {progress.shape}')
    frames = np.arange(len(progress)) if frame_ids is None else np.asarray(frame_ids)
    value = spearman(frames, progress)
    return 0.0 if math.isnan(value) else value


def classify_completion(progress: Union[Sequence[float], np.ndarray], success_final: float = 0.8,
                        success_tail: float = 0.6, partial_mean: float = 0.4,
                        success: Optional[SuccessConfig] = None) -> str:
    """
    Classify a rollout from its progress curve P_1..P_T.

    SUCCESS if P_T > 0.8 and the mean of the last third > 0.6 (the paper's rule), or, with
    success (a success.SuccessConfig), if the success detector fires anywhere in the curve;
    else PARTIAL if the mean of the whole rollout >= 0.4; else FAIL. The last third is the last
    ceil(T / 3) values.
    """
    progress = np.asarray(progress, dtype=float)
    if progress.ndim != 1 or len(progress) == 0:
        raise ValueError('cannot classify an empty rollout')
    if not np.all(np.isfinite(progress)):
        raise ValueError('progress contains NaN or infinite values')
    if success is not None:
        if first_success(progress, success) is not None:
            return SUCCESS
    else:
        tail = progress[-math.ceil(len(progress) / 3):]
        if progress[-1] > success_final and tail.mean() > success_tail:
            return SUCCESS
    if progress.mean() >= partial_mean:
        return PARTIAL
    return FAIL


def completion_accuracy(rollouts: Sequence[Union[Sequence[float], np.ndarray]],
                        labels: Sequence[str], success: Optional[SuccessConfig] = None
                        ) -> tuple[float, dict[str, dict[str, int]]]:
    """
    Accuracy of classify_completion over labelled rollouts, with the confusion counts.

    success: None for the paper's rule, or a success.SuccessConfig (the detector).
    Returns (accuracy, confusion) where confusion[true][predicted] counts rollouts.
    """
    if len(rollouts) != len(labels):
        raise ValueError(f'{len(rollouts)} rollouts but {len(labels)} labels')
    if not rollouts:
        raise ValueError('no rollouts to score')
    confusion = {t: dict.fromkeys(OUTCOMES, 0) for t in OUTCOMES}
    correct = 0
    for index, (progress, label) in enumerate(zip(rollouts, labels)):
        if label not in OUTCOMES:
            raise ValueError(f'rollout {index}: label {label!r} is not one of {OUTCOMES}')
        predicted = classify_completion(progress, success=success)
        confusion[label][predicted] += 1
        correct += predicted == label
    return correct / len(rollouts), confusion


OUTCOME_RANK = {FAIL: 0, PARTIAL: 1, SUCCESS: 2}


def outcome_ranking(final_progress: Union[Sequence[float], np.ndarray],
                    labels: Iterable[str]) -> dict:
    """
    How final progress orders rollouts of mixed outcome.

    final_progress: (N,) the last progress of each rollout; labels: (N,) outcomes in OUTCOMES.
    Returns {'kendall_tau': tau-b between outcome rank (fail < partial < success) and final
    progress (NaN when undefined: fewer than two outcomes), 'kendall_tau_max': the largest
    tau-b a tie-free progress can reach for these labels (the outcomes tie among themselves,
    so it is sqrt((n0 - n1) / n0) with n0 the pairs and n1 the pairs of equal outcome: 0.80
    for 15 successes, 9 partial and 6 failures; progress tied inside an outcome can exceed
    it), 'pairs_ordered': of the pairs of different outcome, the share whose final progress
    is in the outcomes' order (a tie counts half; the concordance index, 1 for a perfect
    ordering whatever the label mix), 'success_fail_gap': mean final progress of successes
    minus that of failures (NaN without both), 'final_progress': {outcome: {'n', 'mean',
    'min', 'median', 'max'}} for the outcomes present}. kendall_tau, kendall_tau_max and
    pairs_ordered are NaN with fewer than two outcomes.
    Raises ValueError on unequal lengths or an unknown label.
    """
    from scipy.stats import kendalltau

    final = np.asarray(final_progress, dtype=float)
    labels = list(labels)
    if final.shape != (len(labels),):
        raise ValueError(f'{final.size} final progress values but {len(labels)} labels')
    unknown = [label for label in labels if label not in OUTCOMES]
    if unknown:
        raise ValueError(f'labels must be in {OUTCOMES}, got {unknown[0]!r}')
    ranks = np.array([OUTCOME_RANK[label] for label in labels], dtype=int)
    tau = float(kendalltau(ranks, final).statistic) if len(set(labels)) > 1 else math.nan
    pairs = len(labels) * (len(labels) - 1) / 2
    tied = sum(c * (c - 1) / 2 for c in np.bincount(ranks, minlength=len(OUTCOMES)))
    tau_max = math.sqrt((pairs - tied) / pairs) if pairs > tied else math.nan
    i, j = np.triu_indices(len(labels), k=1)
    apart = ranks[i] != ranks[j]
    order = np.sign(ranks[i] - ranks[j])[apart] * np.sign(final[i] - final[j])[apart]
    ordered = float(np.mean((order > 0) + 0.5 * (order == 0))) if apart.any() else math.nan
    by_outcome = {o: final[ranks == OUTCOME_RANK[o]] for o in OUTCOMES}
    gap = float(by_outcome[SUCCESS].mean() - by_outcome[FAIL].mean()) \
        if len(by_outcome[SUCCESS]) and len(by_outcome[FAIL]) else math.nan
    distribution = {o: {'n': int(len(v)), 'mean': float(v.mean()), 'min': float(v.min()),
                        'median': float(np.median(v)), 'max': float(v.max())}
                    for o, v in by_outcome.items() if len(v)}
    return {'kendall_tau': tau, 'kendall_tau_max': tau_max, 'pairs_ordered': ordered,
            'success_fail_gap': gap, 'final_progress': distribution}

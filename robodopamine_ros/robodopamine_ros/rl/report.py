# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Success curves: statistics over seeds, the PNG and the markdown table."""

from pathlib import Path

import numpy as np


def curve(summaries):
    """
    Return the evaluated episodes and each seed's success rates (seeds x points).

    Only the episodes every seed has evaluated (a seed still running has fewer points).
    """
    points = [{e: r for e, r, *_ in s['eval']} for s in summaries]
    episodes = sorted(set.intersection(*(set(p) for p in points)))
    rates = np.array([[p[e] for e in episodes] for p in points], dtype=float)
    return np.array(episodes), rates


def episodes_to_fraction(episodes, mean_rates, fraction=0.8):
    """First evaluated episode whose mean success reaches fraction x the final success."""
    final = mean_rates[-1]
    if final <= 0:
        return None
    for episode, rate in zip(episodes, mean_rates):
        if rate >= fraction * final:
            return int(episode)
    return None


def variant_stats(summaries):
    episodes, rates = curve(summaries)
    mean = rates.mean(axis=0)
    last = rates[:, -3:].mean(axis=1)  # the last three evaluations of each seed
    steps = [s['env_steps'] for s in summaries]
    wall = [s['wall_time_s'] for s in summaries]
    return {'seeds': len(summaries), 'final_mean': float(mean[-1]),
            'final_std': float(rates[:, -1].std()), 'last3_mean': float(last.mean()),
            'last3_std': float(last.std()), 'best_mean': float(mean.max()),
            'episodes_to_80pct_of_final': episodes_to_fraction(episodes, mean),
            'wall_time_s': float(np.mean(wall)),
            'steps_per_s': float(np.sum(steps) / np.sum(wall))}


def write_report(folder, variants, title):
    """variants: {name: [summary per seed]} -> folder/success.png and folder/report.md."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    folder = Path(folder)
    fig, ax = plt.subplots(figsize=(7, 4))
    rows = ['| variant | seeds | final success (mean +- std) | last 3 evals | best | '
            'episodes to 80% of final | wall time / run | env steps/s |',
            '|---|---|---|---|---|---|---|---|']
    for name, summaries in variants.items():
        episodes, rates = curve(summaries)
        mean, std = rates.mean(axis=0), rates.std(axis=0)
        ax.plot(episodes, mean, label=name)
        ax.fill_between(episodes, mean - std, mean + std, alpha=0.2)
        s = variant_stats(summaries)
        rows.append(f'| {name} | {s["seeds"]} | {s["final_mean"]:.0%} +- {s["final_std"]:.0%} '
                    f'| {s["last3_mean"]:.0%} +- {s["last3_std"]:.0%} | {s["best_mean"]:.0%} | '
                    f'{s["episodes_to_80pct_of_final"]} | {s["wall_time_s"]:.0f} s | '
                    f'{s["steps_per_s"]:.1f} |')
    ax.set_xlabel('online episodes')
    ax.set_ylabel('evaluation success (deterministic policy)')
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / 'success.png', dpi=110)
    plt.close(fig)
    report = folder / 'report.md'
    report.write_text(f'# {title}\n\n' + '\n'.join(rows) + '\n\n![success](success.png)\n')
    return report

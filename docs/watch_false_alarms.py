"""False alarms of the watch (decenter.diagnose.watch) when divergences are unrelated to the
scales: two AR(1) log scales and divergences in runs, 1000 seeds per setting, 4 x 1000 draws,
20-200 divergences. Prints the share of seeds where a variable would be re-planned, testing
small scales only (the rule before 2026-12-06) and both sides (small and large: the rule now).

    PYTHONPATH=src python docs/watch_false_alarms.py
"""

from __future__ import annotations

import numpy as np

from decenter.diagnose.watch import pick, rank_tests, side

SHAPE = (4, 1000)


def _ar(rng, rho: float) -> np.ndarray:
    x = np.empty(SHAPE)
    x[:, 0] = rng.normal(size=SHAPE[0])
    noise = rng.normal(size=SHAPE)
    for t in range(1, SHAPE[1]):
        x[:, t] = rho * x[:, t - 1] + np.sqrt(1 - rho**2) * noise[:, t]
    return x


def _runs(rng, n: int, length: int) -> np.ndarray:
    div = np.zeros(SHAPE, bool)
    for _ in range(max(1, n // length)):
        c, t = rng.integers(0, SHAPE[0]), rng.integers(0, SHAPE[1] - length)
        div[c, t : t + length] = True
    return div


def main() -> None:
    for rho, length in ((0.9, 5), (0.5, 3)):
        small_only = both = 0
        for seed in range(1000):
            rng = np.random.default_rng(seed)
            n = int(rng.integers(20, 200))
            scales = {"a": _ar(rng, rho), "b": _ar(rng, rho)}
            div = _runs(rng, n, length)
            small = rank_tests(div, scales)
            small_only += pick(small) is not None
            both += side(small, rank_tests(div, scales, larger=True))[0] is not None
        print(
            f"AR(1) rho {rho}, divergences in runs of {length}: small side only "
            f"{small_only / 10:.1f} %, both sides {both / 10:.1f} %"
        )


if __name__ == "__main__":
    main()

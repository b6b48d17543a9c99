"""Radon: the centered model against the non-centered one written by hand.

Samples both with the same settings (decenter.compare) and prints divergences and ESS side by
side. Run: ``python examples/radon.py [--draws 1000 --tune 1000 --chains 4 --seed 1]``.
"""

from __future__ import annotations

import argparse

from decenter.diagnose.compare import compare
from decenter.examples.radon import centered_model, noncentered_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sampler", default=None, help="pymc, nutpie, numpyro or blackjax")
    args = parser.parse_args()

    # The hand-written model keeps a and b as Deterministics: the same names are compared.
    c = compare(
        centered_model(),
        noncentered_model(),
        draws=args.draws,
        tune=args.tune,
        chains=args.chains,
        sampler=args.sampler,
        random_seed=args.seed,
        progressbar=False,
    )
    o, t = c.original, c.transformed
    print(f"{'':22}{'centered':>12}{'non-centered':>14}")
    print(f"{'divergences':22}{o.divergences:>12}{t.divergences:>14}")
    for name in ("sigma_b", "b", "sigma_a", "a"):
        po, pt = o.per_var[name], t.per_var[name]
        print(f"{'bulk ESS ' + name:22}{po['ess_bulk']:>12.0f}{pt['ess_bulk']:>14.0f}")
    print(f"{'ESS per 1000 grads':22}{1000 * o.ess_per_grad:>12.1f}{1000 * t.ess_per_grad:>14.1f}")
    print()
    print(c)


if __name__ == "__main__":
    main()

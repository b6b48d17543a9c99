"""The Laplace spread of the hierarchical scales at the fit's mode (:mod:`decenter.laplace`).

``sd(log s_k)`` by the delta method: the scales' Jacobian (central differences, in the few
hyperparameters they depend on) through the rows of the inverse negative Hessian that those
hyperparameters index. A model of up to ``dense_max`` dimensions gets the full Hessian (central
differences of the gradient); a larger one conjugate gradients on Hessian-vector products.

Examples
--------
>>> import numpy as np
>>> from decenter._covariance import log_scale_sd
>>> def f_lg(x):  # log density -(x0^2 / 0.04 + x1^2) / 2: sd 0.2 and 1
...     return -0.5 * (x[0] ** 2 / 0.04 + x[1] ** 2), -np.array([x[0] / 0.04, x[1]])
>>> blocks = [np.array([0]), np.array([1])]
>>> for dense_max in (10, 0):  # the full Hessian, then conjugate gradients
...     sd, _ = log_scale_sd(f_lg, lambda x: [x[:1]], np.zeros(2), {"s": np.zeros(1)},
...                          blocks, dense_max)
...     print(sd["s"].round(4))
[0.2]
[0.2]
"""

from __future__ import annotations

import numpy as np

__all__ = ["log_scale_sd", "N_PROBES", "CG_MAXITER"]

#: Rademacher probes for the Hessian diagonal of a large model (the preconditioner).
N_PROBES = 16
#: Conjugate-gradient iterations per covariance row of a large model (each: two gradients).
CG_MAXITER = 500


def log_scale_sd(
    f_lg, f_scales, x: np.ndarray, log_scale: dict, blocks: list[np.ndarray], dense_max: int
):
    """The Laplace sd of every log scale at the mode ``x`` (delta method through the scales'
    Jacobian), by name, and the evaluations the Hessian rows took."""
    jac = _scale_jacobian(f_scales, x, blocks)
    rows = np.flatnonzero(np.any(jac != 0, axis=0))
    sd_flat = np.zeros(jac.shape[0])
    calls = 0
    if rows.size:
        cov_rows, calls = _covariance_rows(f_lg, x, rows, dense_max)
        j_r = jac[:, rows]
        sd_flat = np.sqrt(np.maximum(np.einsum("ki,ij,kj->k", j_r, cov_rows[:, rows], j_r), 0))
    sd, start = {}, 0
    for n in log_scale:
        size = log_scale[n].size
        sd[n] = sd_flat[start : start + size].reshape(log_scale[n].shape)
        start += size
    return sd, calls


def _hvp(f_lg, x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """The central difference of the gradient along ``step``: ``H @ step / max|step|``."""
    h = float(np.max(np.abs(step)))
    return (np.asarray(f_lg(x + step)[1]) - np.asarray(f_lg(x - step)[1])) / (2 * h)


def _hessian(f_lg, x: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Columns ``cols`` of the Hessian of the log density, by central differences of the gradient."""
    out = np.empty((x.size, len(cols)))
    for j, i in enumerate(cols):
        e = np.zeros_like(x)
        e[i] = 1e-5 * max(1.0, abs(x[i]))
        out[:, j] = _hvp(f_lg, x, e)
    return out


def _scale_jacobian(f_scales, x: np.ndarray, blocks: list[np.ndarray]) -> np.ndarray:
    """d log-scale / dx (rows: all scale elements), by central differences.

    Only in the value variables the scales depend on: a few hyperparameters, not the group
    effects (one evaluation moving a whole variable tells; the other columns are zero).
    """
    base = np.concatenate([np.ravel(s) for s in f_scales(x)])
    jac = np.zeros((base.size, x.size))
    rng = np.random.default_rng(0)
    coords = []
    for block in blocks:
        e = np.zeros_like(x)
        e[block] = 1e-3 * rng.uniform(0.5, 1.0, size=block.size)
        moved = np.concatenate([np.ravel(s) for s in f_scales(x + e)])
        if not np.array_equal(moved, base):
            coords.extend(block)
    for i in coords:
        h = 1e-5 * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        up = np.concatenate([np.ravel(s) for s in f_scales(x + e)])
        dn = np.concatenate([np.ravel(s) for s in f_scales(x - e)])
        jac[:, i] = (up - dn) / (2 * h)
    return jac


def _covariance_rows(
    f_lg, x: np.ndarray, rows: np.ndarray, dense_max: int
) -> tuple[np.ndarray, int]:
    """Rows ``rows`` of the Laplace covariance (inverse negative Hessian), and gradient calls."""
    n = x.size
    if n > dense_max:
        return _covariance_rows_cg(f_lg, x, rows)
    neg_h = -_hessian(f_lg, x, np.arange(n))
    neg_h = (neg_h + neg_h.T) / 2
    w, v = np.linalg.eigh(neg_h)
    w = np.maximum(w, 1e-8 * max(1.0, w.max()))  # a saddle or flat direction: wide, not negative
    cov = (v / w) @ v.T
    return cov[rows], 2 * n


def _covariance_rows_cg(f_lg, x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Rows of the inverse negative Hessian of a large model, without forming the Hessian.

    Each row solves ``-H v = e_r`` by conjugate gradients on Hessian-vector products (central
    differences of the gradient), preconditioned by the Hessian's diagonal (Rademacher
    probes: ``E[p * Hp] = diag H``). The group effects are coupled to each other and to the
    fixed effects through the data, so a diagonal stand-in for that block is not enough: on
    chem97 (2,546 dimensions) a Schur complement with it came out negative, and the scales'
    spread with it (0, against 0.37 for the LEA scale from the full Hessian).
    """
    from scipy.sparse.linalg import LinearOperator, cg

    n, calls = x.size, [0]

    def neg_hvp(p):
        size = float(np.max(np.abs(p)))
        if size == 0.0:
            return np.zeros(n)
        calls[0] += 2
        return -_hvp(f_lg, x, 1e-5 * p / size) * size

    rng = np.random.default_rng(0)
    diag = np.zeros(n)
    for _ in range(N_PROBES):
        p = rng.choice([-1.0, 1.0], size=n)
        diag += p * neg_hvp(p) / N_PROBES
    diag = np.maximum(diag, 1e-8 * max(1.0, diag.max()))
    op = LinearOperator((n, n), matvec=neg_hvp, dtype=float)
    precond = LinearOperator((n, n), matvec=lambda v: v / diag, dtype=float)
    out = np.zeros((len(rows), n))
    for j, r in enumerate(rows):
        e = np.zeros(n)
        e[r] = 1.0
        out[j], _ = cg(op, e, rtol=1e-3, maxiter=CG_MAXITER, M=precond)
        if not np.isfinite(out[j, r]) or out[j, r] <= 0:  # not positive definite there
            out[j] = 0.0
            out[j, r] = 1.0 / diag[r]
    return out, calls[0]

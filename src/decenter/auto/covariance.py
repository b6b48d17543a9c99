"""The Laplace spread of the hierarchical scales at the fit's mode (:mod:`decenter.auto.laplace`).

``sd(log s_k)`` by the delta method: the scales' Jacobian (central differences, in the few
hyperparameters they depend on) through the rows of the inverse negative Hessian that those
hyperparameters index. A model of up to ``dense_max`` dimensions gets the full Hessian (central
differences of the gradient); a larger one conjugate gradients on Hessian-vector products.

Examples
--------
>>> import numpy as np
>>> from decenter.auto.covariance import log_scale_sd
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

__all__ = ["log_scale_sd", "curvature_scale", "N_PROBES", "CG_MAXITER"]

#: Rademacher probes for the Hessian diagonal of a large model's variables whose elements meet
#: in a term (the preconditioner; :func:`_diagonal`).
N_PROBES = 16
#: Conjugate-gradient iterations per covariance row of a large model (each: two gradients).
CG_MAXITER = 500


def log_scale_sd(
    f_lg,
    f_scales,
    x: np.ndarray,
    log_scale: dict,
    blocks: list[np.ndarray],
    dense_max: int,
    *,
    deps: list[list[int]] | None = None,
    components: list[np.ndarray] | None = None,
    progress=None,
):
    """The Laplace sd of every log scale at the mode ``x`` (delta method through the scales'
    Jacobian), by name, and the evaluations the Hessian rows took.

    ``deps[o]`` (optional) lists the blocks that the ``o``-th scale depends on, from the graph;
    without it one evaluation per block finds them. ``components`` (optional) are groups of
    coordinates between which the log density has no cross terms (independent sub-models):
    the Hessian is then block-diagonal and its blocks come from one gradient difference per
    coordinate of the largest block, whatever the number of blocks. ``progress`` receives a
    text of counts.
    """
    tick = progress or (lambda text: None)
    if deps is None:
        deps = _find_deps(f_scales, x, blocks)
    tick(f"Jacobian of {len(deps)} scales")
    jacs = _scale_jacobian(f_scales, x, blocks, deps)
    rows = np.unique(np.concatenate([c for _, c in jacs] + [np.zeros(0, dtype=int)]))
    calls, cov = 0, np.zeros((0, 0))
    if rows.size:
        cov, calls = _covariance_rows(f_lg, x, rows, dense_max, blocks, components, tick)
    pos = np.full(x.size, -1)
    pos[rows] = np.arange(rows.size)
    sd = {}
    for n, (j, cols) in zip(log_scale, jacs, strict=True):
        idx = pos[cols]
        var = np.einsum("ki,ij,kj->k", j, cov[np.ix_(idx, idx)], j) if cols.size else 0.0
        sd[n] = np.sqrt(np.maximum(var, 0) + np.zeros(j.shape[0])).reshape(log_scale[n].shape)
    return sd, calls


def curvature_scale(f_lg, x: np.ndarray, blocks, layers=None) -> tuple[np.ndarray, int]:
    """The square root of the curvature of each coordinate at ``x`` (the negative Hessian's
    diagonal, per variable: :func:`_diagonal`), at least 1, and the gradient evaluations it
    took: an optimiser's scale of each coordinate (``blocks``, ``layers`` as there)."""
    neg_hvp, calls = _neg_hvp(f_lg, x)
    diag = _diagonal(neg_hvp, x.size, blocks, layers)
    return np.sqrt(np.maximum(diag, 1.0)), calls[0]


def _neg_hvp(f_lg, x: np.ndarray):
    """``p -> -H p`` at ``x`` (central differences of the gradient, any scale of ``p``), and
    the list whose one entry counts the gradient evaluations it made."""
    calls = [0]

    def neg_hvp(p):
        size = float(np.max(np.abs(p)))
        if size == 0.0:
            return np.zeros(x.size)
        calls[0] += 2
        return -_hvp(f_lg, x, 1e-5 * p / size) * size

    return neg_hvp, calls


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


def _find_deps(f_scales, x: np.ndarray, blocks: list[np.ndarray]) -> list[list[int]]:
    """Per scale, the blocks it depends on: one evaluation moving each whole block tells."""
    base = [np.ravel(s) for s in f_scales(x)]
    deps: list[list[int]] = [[] for _ in base]
    rng = np.random.default_rng(0)
    for b, block in enumerate(blocks):
        e = np.zeros_like(x)
        e[block] = 1e-3 * rng.uniform(0.5, 1.0, size=block.size)
        for o, (moved, was) in enumerate(zip(f_scales(x + e), base, strict=True)):
            if not np.array_equal(np.ravel(moved), was):
                deps[o].append(b)
    return deps


def _colours(groups: list[np.ndarray], conflicts: list[set]) -> list[list[int]]:
    """Coordinates in colours: two coordinates share one only if their ``conflicts`` (the sets
    of outputs or components they touch) are disjoint. ``groups[g]``'s coordinates all touch
    ``conflicts[g]``, so each takes a different colour (greedy, first fit)."""
    colours: list[list[int]] = []
    touched: list[set] = []
    for coords, conf in zip(groups, conflicts, strict=True):
        c = 0
        for i in coords:
            while c < len(colours) and not touched[c].isdisjoint(conf):
                c += 1
            if c == len(colours):
                colours.append([])
                touched.append(set())
            colours[c].append(int(i))
            touched[c] |= conf
            c += 1
    return colours


def _scale_jacobian(
    f_scales, x: np.ndarray, blocks: list[np.ndarray], deps: list[list[int]]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """d log-scale / dx by central differences, per scale: ``(jacobian, coordinates)`` with
    the Jacobian's columns on those coordinates only (where it is not zero).

    Only in the blocks the scales depend on (a few hyperparameters, not the group effects),
    and coordinates that no scale shares are moved together: one pair of evaluations per
    colour, not per coordinate (independent hierarchies: one pair in all).
    """
    users: dict[int, set] = {}
    for o, bs in enumerate(deps):
        for b in bs:
            users.setdefault(b, set()).add(o)
    order = sorted(users)
    colours = _colours([blocks[b] for b in order], [users[b] for b in order])
    owner = {int(i): b for b in order for i in blocks[b]}
    sizes = [np.size(s) for s in f_scales(x)]
    cols: list[dict[int, np.ndarray]] = [{} for _ in deps]
    for colour in colours:
        e = np.zeros_like(x)
        steps = {i: 1e-5 * max(1.0, abs(x[i])) for i in colour}
        e[colour] = [steps[i] for i in colour]
        up, dn = f_scales(x + e), f_scales(x - e)
        for i in colour:
            for o in users[owner[i]]:
                cols[o][i] = (np.ravel(up[o]) - np.ravel(dn[o])) / (2 * steps[i])
    out = []
    for o, size in enumerate(sizes):
        coords = np.array(sorted(i for i, c in cols[o].items() if np.any(c != 0)), dtype=int)
        j = np.stack([cols[o][i] for i in coords], axis=1) if coords.size else np.zeros((size, 0))
        out.append((j, coords))
    return out


def _covariance_rows(
    f_lg, x: np.ndarray, rows: np.ndarray, dense_max: int, blocks, components=None, tick=None
) -> tuple[np.ndarray, int]:
    """The Laplace covariance (inverse negative Hessian) on ``rows`` x ``rows``, and gradient
    calls: per independent component when there are several (exact, see
    :func:`_component_covariance`), else from the full Hessian or conjugate gradients."""
    tick = tick or (lambda text: None)
    n = x.size
    if components is not None:
        comps = [c for c in components if np.isin(c, rows).any()]
        if len(comps) > 1 and max(c.size for c in comps) <= dense_max:
            out = _component_covariance(f_lg, x, rows, comps, tick)
            if out is not None:
                return out
    if n > dense_max:
        cov, calls = _covariance_rows_cg(f_lg, x, rows, tick, blocks)
        return cov[:, rows], calls
    tick(f"Hessian of {n} dimensions")
    neg_h = -_hessian(f_lg, x, np.arange(n))
    neg_h = (neg_h + neg_h.T) / 2
    w, v = np.linalg.eigh(neg_h)
    w = np.maximum(w, 1e-8 * max(1.0, w.max()))  # a saddle or flat direction: wide, not negative
    cov = (v / w) @ v.T
    return cov[np.ix_(rows, rows)], 2 * n


def _component_covariance(f_lg, x, rows, comps, tick) -> tuple[np.ndarray, int] | None:
    """Covariance on ``rows`` from the Hessian blocks of independent components.

    The t-th coordinate of every component moves in the same gradient difference (the blocks
    do not see each other), so the cost is twice the size of the largest component in
    gradients. A random Hessian-vector product then checks that the components really are
    independent; if not, None (the caller takes the full Hessian).
    """
    size = max(c.size for c in comps)
    blocks = [np.empty((c.size, c.size)) for c in comps]
    for t in range(size):
        tick(f"Hessian of {len(comps)} independent blocks: {t} of {size} columns")
        live = [k for k, c in enumerate(comps) if c.size > t]
        e = np.zeros_like(x)
        for k in live:
            e[comps[k][t]] = 1e-5 * max(1.0, abs(x[comps[k][t]]))
        gp, gm = np.asarray(f_lg(x + e)[1]), np.asarray(f_lg(x - e)[1])
        for k in live:
            j = comps[k][t]
            blocks[k][:, t] = (gp[comps[k]] - gm[comps[k]]) / (2 * e[j])
    if not _independent(f_lg, x, comps, blocks):
        return None
    eig = [np.linalg.eigh(-(b + b.T) / 2) for b in blocks]
    top = max(w.max() for w, _ in eig)
    pos = np.full(x.size, -1)
    pos[rows] = np.arange(rows.size)
    cov = np.zeros((rows.size, rows.size))
    for c, (w, v) in zip(comps, eig, strict=True):
        w = np.maximum(w, 1e-8 * max(1.0, top))  # a saddle or flat direction: wide
        keep = pos[c] >= 0
        vr = v[keep]
        cov[np.ix_(pos[c][keep], pos[c][keep])] = (vr / w) @ vr.T
    return cov, 2 * size + 2


def _independent(f_lg, x, comps, blocks) -> bool:
    """Does one random Hessian-vector product agree with the block-diagonal Hessian? (``p``
    moves every coordinate: a cross term with any other coordinate shows too.)"""
    p = np.random.default_rng(0).choice([-1.0, 1.0], size=x.size)
    hp = _hvp(f_lg, x, 1e-5 * p)
    coords = np.concatenate(comps)
    mine = np.zeros(x.size)
    for c, b in zip(comps, blocks, strict=True):
        mine[c] = b @ p[c]
    scale = max(1.0, float(np.max(np.abs(hp[coords]))))
    return bool(np.max(np.abs(hp[coords] - mine[coords])) <= 1e-3 * scale)


def _covariance_rows_cg(
    f_lg, x: np.ndarray, rows: np.ndarray, tick, blocks
) -> tuple[np.ndarray, int]:
    """Rows of the inverse negative Hessian of a large model, without forming the Hessian.

    Each row solves ``-H v = e_r`` by conjugate gradients on Hessian-vector products (central
    differences of the gradient), preconditioned by the Hessian's diagonal
    (:func:`_diagonal`). The group effects are coupled to each other and to the fixed effects
    through the data, so a diagonal stand-in for that block is not enough: on chem97 (2,546
    dimensions) a Schur complement with it came out negative, and the scales' spread with it
    (0, against 0.37 for the LEA scale from the full Hessian).
    """
    from scipy.sparse.linalg import LinearOperator, cg

    n = x.size
    neg_hvp, calls = _neg_hvp(f_lg, x)
    diag = _diagonal(neg_hvp, n, blocks)
    op = LinearOperator((n, n), matvec=neg_hvp, dtype=float)
    precond = LinearOperator((n, n), matvec=lambda v: v / diag, dtype=float)
    out = np.zeros((len(rows), n))
    for j, r in enumerate(rows):
        tick(f"conjugate gradients: {j} of {len(rows)} rows")
        e = np.zeros(n)
        e[r] = 1.0
        out[j], _ = cg(op, e, rtol=1e-3, maxiter=CG_MAXITER, M=precond)
        if not np.isfinite(out[j, r]) or out[j, r] <= 0:  # not positive definite there
            out[j] = 0.0
            out[j, r] = 1.0 / diag[r]
    return out, calls[0]


def _diagonal(
    neg_hvp, n: int, blocks: list[np.ndarray], layers: list[list[int]] | None = None
) -> np.ndarray:
    """The diagonal of ``-H`` (``neg_hvp(p) = -H p``): the conjugate gradients' preconditioner,
    and the optimiser's scale of each coordinate (:mod:`decenter.auto.laplace`).

    Per variable (``blocks``: its coordinates), one product with ones on its coordinates gives
    its rows' sums within it: the exact diagonal when its elements do not meet in one term (a
    group effect's elements, each observation touching one), whatever the couplings to other
    variables. A second product with random signs on the variable tells: it gives the same
    numbers only then. The variables whose elements meet (an MvNormal's, a random walk's) share
    :data:`N_PROBES` Rademacher probes on their coordinates (``E[p * Hp] = diag H``). Rademacher
    probes over every coordinate instead carry the noise of all the couplings: on the full
    InstEval (4,120 dimensions) a third of the entries came out wrong by more than 35 % and
    some negative, and each row took 1,100-1,750 iterations against 18-25 with the exact one.
    ``layers`` (optional): groups of variables probed in one product, variables of
    independent sub-models (no term joins them): the t-th variable of each.
    """
    rng = np.random.default_rng(0)
    diag, coupled = np.zeros(n), []
    for layer in [[b] for b in range(len(blocks))] if layers is None else layers:
        p = np.zeros(n)
        for b in layer:
            p[blocks[b]] = 1.0
        sums = neg_hvp(p)
        multi = [blocks[b] for b in layer if blocks[b].size > 1]
        if multi:
            p = np.zeros(n)
            for idx in multi:
                p[idx] = rng.choice([-1.0, 1.0], size=idx.size)
            signed = p * neg_hvp(p)
        for idx in (blocks[b] for b in layer):
            if idx.size > 1:
                tol = 1e-8 * max(1.0, np.abs(sums[idx]).max())
                same = np.allclose(sums[idx], signed[idx], rtol=1e-4, atol=tol)
                if not same or np.any(sums[idx] <= 0):  # (<= 0: elements that meet, too)
                    coupled.append(idx)
                    continue
            diag[idx] = sums[idx]
    if coupled:
        idx = np.concatenate(coupled)
        for _ in range(N_PROBES):
            p = np.zeros(n)
            p[idx] = rng.choice([-1.0, 1.0], size=idx.size)
            diag[idx] += p[idx] * neg_hvp(p)[idx] / N_PROBES
    return np.maximum(diag, 1e-8 * max(1.0, diag.max()))

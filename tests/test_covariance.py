"""The conjugate-gradient covariance rows of a large model and their preconditioner."""

import numpy as np

import decenter
from decenter.auto import covariance as cv


def _arrow(n_a=300, n_b=12, seed=0):
    """``-H`` of a hierarchical model's shape: a scalar hyperparameter coupled to every group
    effect (coordinate 0), a group effect of ``n_a`` elements that never meet each other but
    meet a second, crossed effect (``n_b`` elements), whose elements meet each other too."""
    rng = np.random.default_rng(seed)
    n = 1 + n_a + n_b
    a, b = np.arange(1, 1 + n_a), np.arange(1 + n_a, n)
    h = np.zeros((n, n))
    h[a, a] = 1.0 + rng.uniform(0, 50, size=n_a)  # each element's own data: widely spread
    h[b, b] = 200.0 + rng.uniform(0, 50, size=n_b)
    cross = rng.uniform(0, 1, size=(n_a, n_b)) * (rng.uniform(size=(n_a, n_b)) < 0.3)
    h[np.ix_(a, b)] = cross
    h[np.ix_(b, a)] = cross.T
    h[b[:-1], b[1:]] = h[b[1:], b[:-1]] = 5.0  # the crossed effect's elements meet
    h[0, a] = h[a, 0] = rng.normal(size=n_a)
    h[0, 0] = 2.0 * np.abs(h[0, a]).sum()  # diagonally dominant: positive definite
    return h, [np.array([0]), a, b]


def _counted(h):
    calls = [0]

    def neg_hvp(p):
        calls[0] += 1
        return h @ p

    return neg_hvp, calls


def test_diagonal_is_exact_for_variables_whose_elements_never_meet():
    h, blocks = _arrow()
    neg_hvp, calls = _counted(h)
    diag = cv._diagonal(neg_hvp, h.shape[0], blocks)
    exact = np.diag(h)
    # the scalar and the uncoupled effect: exact, whatever their couplings to the others
    np.testing.assert_allclose(diag[blocks[0]], exact[blocks[0]], rtol=1e-12)
    np.testing.assert_allclose(diag[blocks[1]], exact[blocks[1]], rtol=1e-12)
    # the effect whose elements meet is found coupled: Rademacher probes on it alone, whose
    # noise is its own couplings (5 on a diagonal of 200-250), not the other variables'
    b = blocks[2]
    assert not np.allclose(diag[b], h[np.ix_(b, b)].sum(axis=1))
    np.testing.assert_allclose(diag[b], exact[b], rtol=0.1)
    assert calls[0] == 1 + 2 + 2 + cv.N_PROBES  # one per scalar, two per effect, the probes


def test_rademacher_probes_over_all_coordinates_were_the_noisy_preconditioner():
    # the old stand-in for the diagonal: probes over every coordinate carry every coupling
    h, blocks = _arrow()
    rng = np.random.default_rng(0)
    est = np.zeros(h.shape[0])
    for _ in range(cv.N_PROBES):
        p = rng.choice([-1.0, 1.0], size=h.shape[0])
        est += p * (h @ p) / cv.N_PROBES
    new = cv._diagonal(_counted(h)[0], h.shape[0], blocks)
    exact = np.concatenate(blocks[:2])  # the coordinates the new one gets exactly
    err_old = np.abs(est - np.diag(h))[exact] / np.diag(h)[exact]
    err_new = np.abs(new - np.diag(h))[exact] / np.diag(h)[exact]
    assert np.max(err_old) > 0.3 and np.max(err_new) < 1e-12


def test_covariance_rows_match_the_inverse_with_few_products():
    h, blocks = _arrow()
    n = h.shape[0]
    x = np.zeros(n)

    def f_lg(y):  # log density -y'Hy/2: the negative Hessian is h
        return -0.5 * y @ h @ y, -(h @ y)

    rows = np.array([0, 5])
    cov, calls = cv._covariance_rows_cg(f_lg, x, rows, lambda text: None, blocks)
    inv = np.linalg.inv(h)
    want = inv[np.ix_(rows, rows)]
    np.testing.assert_allclose(np.diag(cov[:, rows]), np.diag(want), rtol=1e-4)
    np.testing.assert_allclose(cov[:, rows], want, atol=1e-3 * np.diag(want).max())
    # two evaluations per product: the diagonal's (21 products) and a few iterations per row
    assert calls < 2 * (21 + 2 * 30)


def test_a_scale_broadcast_to_its_variable_does_not_depend_on_its_values():
    # the scales' Jacobian moves only the coordinates a scale depends on; a shape is not one
    import pytensor.tensor as pt

    from decenter.auto.structure import dependencies

    x, sigma, mu = pt.vector("x"), pt.scalar("sigma"), pt.scalar("mu")
    exprs = [
        pt.log(sigma) * pt.ones(x.shape),  # an Alloc of x's shape
        pt.ones_like(x) * sigma,  # a fill: x gives the shape only
        pt.second(x, sigma + mu),
        sigma * x.shape[0],
        sigma * x,  # a value dependence stays one
        pt.exp(x).sum() + mu,
    ]
    assert dependencies(exprs, [x, sigma, mu]) == [[1], [1], [1, 2], [1], [0, 1], [0, 2]]


def test_scales_depend_on_their_hyperparameters_not_on_their_offsets():
    # InstEval (a hoisted location, a nested factor): each scale's dependencies are its own
    # sigma; counting the offsets (through the scale's broadcast to their shape) cost the
    # full model's fit 0.57 s of 3.6 in finite differences
    from decenter._pymc import initial_point
    from decenter.auto import laplace
    from decenter.core.rewrite import apply_plan
    from decenter.examples.corpus import CORPUS

    m = CORPUS["insteval"]()
    p = decenter.plan(m, strategy="noncentered")
    ncp = apply_plan(m, laplace.noncentered_plan(m, p))
    names = [d.name for d in p.rewrites]
    *_, deps = laplace._compile(m, ncp, names, initial_point(ncp), p.rules(m))
    values = [v.name for v in ncp.value_vars]
    got = {n: [values[b] for b in bs] for n, bs in zip(names, deps, strict=True)}
    assert got == {
        "u_student": ["sigma_student_log__"],
        "u_lecturer": ["sigma_lecturer_log__"],
        "u_dept": ["sigma_dept_log__"],
    }


def test_independent_parts_are_probed_together():
    # the t-th variable of each independent part shares one product: the cost of the
    # diagonal is that of the largest part, not of the number of parts
    parts = [_arrow(n_a=40, n_b=12, seed=s) for s in range(5)]
    sizes = [h.shape[0] for h, _ in parts]
    h = np.zeros((sum(sizes), sum(sizes)))
    blocks, layers, start = [], [[], [], []], 0
    for h_i, blocks_i in parts:
        k = h_i.shape[0]
        h[start : start + k, start : start + k] = h_i
        for t, b in enumerate(blocks_i):
            layers[t].append(len(blocks))
            blocks.append(b + start)
        start += k
    alone, calls_alone = _counted(h)
    together, calls_together = _counted(h)
    diag_alone = cv._diagonal(alone, h.shape[0], blocks)
    diag_together = cv._diagonal(together, h.shape[0], blocks, layers)
    exact = np.concatenate([b for t in (0, 1) for b in blocks[t::3]])  # the never-meeting ones
    np.testing.assert_allclose(diag_together[exact], np.diag(h)[exact], rtol=1e-12)
    np.testing.assert_allclose(diag_alone[exact], np.diag(h)[exact], rtol=1e-12)
    assert calls_together[0] == 1 + 2 + 2 + cv.N_PROBES
    assert calls_alone[0] == 5 * (1 + 2 + 2) + cv.N_PROBES


def test_scaled_optimiser_finds_the_same_mode_in_fewer_evaluations():
    from decenter.auto.laplace import _optimise

    h, blocks = _arrow()
    target = np.random.default_rng(1).normal(size=h.shape[0])

    def f_lg(y):  # a Gaussian log density with mode `target` and negative Hessian h
        r = y - target
        return -0.5 * r @ h @ r, -(h @ r)

    x0 = np.zeros(h.shape[0])
    plain = _optimise(f_lg, x0, 0)
    scale, calls = cv.curvature_scale(f_lg, x0, blocks)
    scaled = _optimise(f_lg, x0, 0, scale)
    assert plain[1] and scaled[1]
    # here: 109 evaluations to within 1e-4 against 11 + 42 (the diagonal) to within 2e-6
    assert np.abs(scaled[0] - target).max() < np.abs(plain[0] - target).max() / 10
    assert np.abs(scaled[0] - target).max() < 1e-4
    assert scaled[3] + calls < plain[3] / 1.5

"""Pictures of the funnel before and after the rewrite (needs matplotlib: ``decenter[plot]``).

Two figures per comparison: the traces of the hierarchical scale (e.g. ``sigma_b``), and the
joint scatter of one group element against the log scale (the funnel), divergent draws in red.
:func:`save_plots` writes them as PNG files, or returns them as matplotlib Figures when no
directory is given (a notebook shows them with ``display``); :func:`figures` names them.
matplotlib is imported only when a picture is made, without pyplot (no display needed).

Examples
--------
>>> import decenter
>>> from decenter.diagnose.compare import compare
>>> from decenter.report.plots import save_plots
>>> from decenter.examples.radon import centered_model
>>> c = compare(centered_model(), draws=500, tune=500, random_seed=1)  # doctest: +SKIP
>>> save_plots(c, "pictures", var="b")  # doctest: +SKIP
[PosixPath('pictures/trace_sigma_b.png'), PosixPath('pictures/funnel_b.png')]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from decenter.report.render import plural

__all__ = ["funnel_target", "trace_figure", "funnel_figure", "figures", "save_plots"]

DIVERGENT = "#d62728"
LABELS = ("original", "transformed")


def _matplotlib():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "decenter's pictures need matplotlib: pip install decenter[plot]"
        ) from None
    return Figure


def funnel_target(plan: Any, var: str | None = None) -> tuple[str, str, str | None]:
    """(variable, scale, offset) to draw: ``var`` or the first rewritten variable of the plan,
    the first free variable its scale depends on, and its new standardized variable.

    Examples
    --------
    >>> import decenter
    >>> from decenter.examples.radon import centered_model
    >>> funnel_target(decenter.plan(centered_model()), "b")
    ('b', 'sigma_b', 'b_offset')
    """
    if plan is None:
        raise ValueError("no plan to find the funnel in: pass var= and scale=")
    candidates = [d for d in plan.rewrites if var is None or d.name == var]
    if not candidates:
        names = [d.name for d in plan.rewrites]
        raise ValueError(
            f"{var!r} is not rewritten by the plan; rewritten variables: {names}"
            if var
            else "the plan rewrites no variable, so there is no funnel to draw"
        )
    d = candidates[0]
    if not d.scale_parents:
        raise ValueError(f"the scale of {d.name!r} depends on no free variable: no funnel")
    return d.name, d.scale_parents[0], d.new_name


def _draws(idata: Any, name: str, element: int | None = None) -> np.ndarray:
    """(chain, draw) array of a scalar variable or of one flat element of a vector."""
    post = idata.posterior
    if name not in post.data_vars:
        raise ValueError(f"{name!r} is not in the posterior (variables: {list(post.data_vars)})")
    values = np.asarray(post[name].values, dtype=float)
    values = values.reshape(values.shape[0], values.shape[1], -1)
    return values[..., 0 if element is None else element]


def _divergent(idata: Any) -> np.ndarray | None:
    if "sample_stats" in idata.children and "diverging" in idata.sample_stats.data_vars:
        return np.asarray(idata.sample_stats["diverging"].values, dtype=bool)
    return None


def _log_if_positive(x: np.ndarray, name: str) -> tuple[np.ndarray, str]:
    if np.all(x > 0):
        return np.log(x), f"log({name})"
    return x, name


def _element(idata: Any, var: str, element: int | str | None) -> tuple[int, str]:
    """Flat index and label of the element to draw; None picks the element with the widest
    posterior (the least informed by data: the deepest funnel)."""
    da = idata.posterior[var]
    shape = da.shape[2:]
    size = int(np.prod(shape)) if shape else 1
    if element is None:
        sd = np.asarray(da.values, dtype=float).reshape(da.shape[0] * da.shape[1], -1).std(0)
        flat = int(np.nanargmax(sd))
    elif isinstance(element, str):
        dim = da.dims[2] if len(da.dims) == 3 else None
        labels = [str(v) for v in da.coords[dim].values] if dim in da.coords else []
        if element not in labels:
            raise ValueError(f"element {element!r} is not a coordinate of {var}: {labels[:10]}...")
        flat = labels.index(element)
    else:
        flat = int(element)
        if not 0 <= flat < size:
            raise ValueError(f"element {flat} is out of range for {var} ({size} elements)")
    if not shape:
        return 0, var
    idx = np.unravel_index(flat, shape)
    parts = []
    for dim, i in zip(da.dims[2:], idx, strict=True):
        parts.append(str(da.coords[dim].values[i]) if dim in da.coords else str(i))
    return flat, f"{var}[{', '.join(parts)}]"


def trace_figure(before: Any, after: Any, scale: str, *, labels: tuple[str, str] = LABELS):
    """Traces (per chain) and histograms of ``scale`` in two runs; divergent draws in red.

    Examples
    --------
    >>> fig = trace_figure(c.original.idata, c.transformed.idata, "sigma_b")  # doctest: +SKIP
    >>> fig.savefig("trace.png")  # doctest: +SKIP
    """
    Figure = _matplotlib()
    fig = Figure(figsize=(11, 5.5), layout="constrained")
    axes = fig.subplots(2, 2, width_ratios=[3, 1], sharey="row")
    both = [_log_if_positive(_draws(d, scale), scale) for d in (before, after)]
    lo = min(np.nanmin(x) for x, _ in both)
    hi = max(np.nanmax(x) for x, _ in both)
    bins = np.linspace(lo, hi, 50)
    for row, (idata, (x, ylabel), label) in enumerate(
        zip((before, after), both, labels, strict=True)
    ):
        ax, hax = axes[row]
        div = _divergent(idata)
        for c in range(x.shape[0]):
            ax.plot(x[c], lw=0.6, alpha=0.8)
            hax.hist(x[c], bins=bins, orientation="horizontal", histtype="step", lw=1)
        n_div = 0
        if div is not None and div.any():
            ci, di = np.nonzero(div)
            n_div = len(ci)
            ax.scatter(di, x[ci, di], s=10, color=DIVERGENT, zorder=3, label="divergent")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_ylim(lo, hi)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{label}: {plural(n_div, 'divergence')}", loc="left", fontsize=10)
        hax.set_xlabel("count")
    axes[1, 0].set_xlabel("draw")
    fig.suptitle(f"Traces of {scale} (one colour per chain)")
    return fig


def funnel_figure(
    before: Any,
    after: Any,
    var: str,
    scale: str,
    *,
    element: int | str | None = None,
    offset: str | None = None,
    labels: tuple[str, str] = LABELS,
):
    """The funnel: one element of ``var`` against log ``scale``, before and after the rewrite,
    plus (when ``offset`` is given and sampled) the coordinates NUTS really moves in after it.
    Divergent draws are red.

    Examples
    --------
    >>> fig = funnel_figure(c.original.idata, c.transformed.idata, "b", "sigma_b",
    ...                     offset="b_offset")  # doctest: +SKIP
    """
    Figure = _matplotlib()
    flat, label = _element(before, var, element)
    panels = [(before, var, f"{labels[0]}: {label}"), (after, var, f"{labels[1]}: {label}")]
    if offset is not None and offset in after.posterior.data_vars:
        off_label = label.replace(var, offset, 1)
        panels.append((after, offset, f"{labels[1]}, sampled coordinates: {off_label}"))
    fig = Figure(figsize=(5 * len(panels), 4.6), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True)
    ylabel = scale
    for ax, (idata, name, title) in zip(axes, panels, strict=True):
        x = _draws(idata, name, flat)
        y, ylabel = _log_if_positive(_draws(idata, scale), scale)
        div = _divergent(idata)
        ok = ~div if div is not None else np.ones_like(x, dtype=bool)
        ax.scatter(x[ok], y[ok], s=4, alpha=0.35, color="#1f77b4", lw=0, label="draws")
        n_div = int((~ok).sum())
        if n_div:
            ax.scatter(x[~ok], y[~ok], s=14, color=DIVERGENT, lw=0, label=f"divergent ({n_div})")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(title.rsplit(": ", 1)[-1])
        ax.legend(loc="upper right", fontsize=8, markerscale=2)
    axes[0].set_ylabel(ylabel)
    fig.suptitle(f"The funnel of {var} and {scale}, before and after non-centering")
    return fig


def figures(
    source: Any,
    *,
    var: str | None = None,
    scale: str | None = None,
    element: int | str | None = None,
    plan: Any = None,
) -> dict[str, Any]:
    """The trace and funnel pictures as matplotlib Figures, keyed by the file name
    :func:`save_plots` gives them (``trace_<scale>.png``, ``funnel_<var>.png``).

    The arguments are those of :func:`save_plots`. In a notebook, show one with
    ``display(fig)``; nothing is written to disk.

    Examples
    --------
    >>> figs = figures(comparison)  # doctest: +SKIP
    >>> list(figs)  # doctest: +SKIP
    ['trace_sigma_b.png', 'funnel_b.png']
    """
    from decenter.diagnose.compare import Comparison

    offset = None
    if isinstance(source, Comparison):
        before, after = source.original.idata, source.transformed.idata
        plan = plan if plan is not None else source.plan
        if plan is None and source.original_model is not None:
            from decenter.core.plan import decide as make_plan

            # the candidates, whatever lam a strategy would give them: the funnel is theirs
            plan = make_plan(source.original_model, strategy="noncentered")
    else:
        before, after = source
    if scale is None or var is None:
        found_var, found_scale, offset = funnel_target(plan, var)
        var, scale = var or found_var, scale or found_scale
    elif plan is not None:
        offset = next((d.new_name for d in plan.rewrites if d.name == var), None)
    return {
        f"trace_{scale}.png": trace_figure(before, after, scale),
        f"funnel_{var}.png": funnel_figure(
            before, after, var, scale, element=element, offset=offset
        ),
    }


def save_plots(
    source: Any,
    out_dir: str | Path | None = None,
    *,
    var: str | None = None,
    scale: str | None = None,
    element: int | str | None = None,
    plan: Any = None,
    dpi: int = 110,
) -> list[Path] | list[Any]:
    """Save the trace and funnel pictures as PNG files in ``out_dir``; return their paths.
    Without ``out_dir``, return the two matplotlib Figures instead (for a notebook).

    Parameters
    ----------
    source : Comparison or (DataTree, DataTree)
        A :class:`decenter.diagnose.compare.Comparison`, or the posteriors of the original and the
        transformed model (then give ``plan=``, or ``var=`` and ``scale=``).
    out_dir : str or Path, optional
        Created if missing. Files: ``trace_<scale>.png`` and ``funnel_<var>.png``. None:
        nothing is written and the Figures are returned.
    var, scale : str, optional
        The group variable and its scale; by default the first rewritten variable of the plan
        (the comparison's plan, else the original model's candidates) and the first free
        variable its scale depends on.
    element : int or str, optional
        Flat index or coordinate label of the element of ``var`` to draw; by default the
        element with the widest posterior in the original run (the deepest funnel).
    plan : Plan, optional
        The plan whose rewrites are drawn (the one the transformed model was made with).
    dpi : int
        Resolution of the PNG files.

    Examples
    --------
    >>> from decenter.report.plots import save_plots
    >>> paths = save_plots(comparison, "decenter-demo", var="b")  # doctest: +SKIP
    >>> trace, funnel = save_plots(comparison)  # matplotlib Figures  # doctest: +SKIP
    """
    figs = figures(source, var=var, scale=scale, element=element, plan=plan)
    if out_dir is None:
        return list(figs.values())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figs.items():
        path = out / name
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths

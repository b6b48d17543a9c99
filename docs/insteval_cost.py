"""Full lme4 InstEval (73,421 ratings): the default's plan cost against compiling the model.

python docs/insteval_cost.py      # JSON on stdout (docs/benchmarks.md, "The default at scale")
"""

import json
import resource
import time
import tracemalloc
import warnings

warnings.simplefilter("ignore")
import pymc as pm

import decenter
from decenter.examples import corpus_gauss as cg


def full():
    df = cg._rdata("lme4", "InstEval")
    stud, studs = cg._codes(df["s"])
    lect, lects = cg._codes(df["d"])
    dept, depts = cg._codes(df["dept"])
    service = (df["service"] == 1).to_numpy(float)
    with pm.Model(coords={"student": studs, "lecturer": lects, "dept": depts}) as model:
        mu = pm.Normal("mu", 3, 1)
        b_service = pm.Normal("b_service", 0, 1)
        s = {k: pm.HalfNormal(f"sigma_{k}", 1) for k in ("student", "lecturer", "dept")}
        u_stud = pm.Normal("u_student", 0, s["student"], dims="student")
        u_lect = pm.Normal("u_lecturer", 0, s["lecturer"], dims="lecturer")
        u_dept = pm.Normal("u_dept", mu, s["dept"], dims="dept")
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal(
            "y",
            u_dept[dept] + u_stud[stud] + u_lect[lect] + b_service * service,
            sigma,
            observed=df["y"].to_numpy(float),
        )
    return model


def main() -> None:
    t = time.perf_counter()
    m = full()
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    m.compile_logp()
    m.compile_dlogp()
    t_compile = time.perf_counter() - t
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    p = decenter.plan(m, random_seed=0, progressbar=False)
    t_plan = time.perf_counter() - t
    steps = p.fit["steps"]
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # the peak Python memory from a second plan: tracing every allocation slows the plan
    # down (4.7 s against 1.6 s), so the timed one above runs without it
    tracemalloc.start()
    decenter.plan(m, random_seed=0, progressbar=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t = time.perf_counter()
    decenter.transform(m, plan=p)
    t_apply = time.perf_counter() - t
    out = dict(
        n_obs=int(m["y"].size.eval()) if hasattr(m["y"], "size") else None,
        build=t_build,
        compile_logp_dlogp=t_compile,
        plan=t_plan,
        steps=steps,
        evaluations=p.fit["evaluations"],
        dims=p.fit["dimensions"],
        plan_peak_python_mb=peak / 2**20,
        maxrss_mb_before_plan=rss0 / 1024,
        maxrss_mb_after_plan=rss1 / 1024,
        apply_plan=t_apply,
        lam={d.name: d.lam_summary() for d in p.rewrites},
        kept=[d.name for d in p.decisions if d.reason.endswith("left centered")],
    )
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()

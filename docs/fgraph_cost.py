"""PyMC 6.4 fgraph_from_model against decenter._pymc.fgraph_from_model (docs/upstream_fgraph_issue.md).

PYTHONPATH=src python docs/fgraph_cost.py
"""

import time
import warnings

warnings.simplefilter("ignore")
from pymc.model.fgraph import fgraph_from_model as theirs

from decenter._pymc import fgraph_from_model as ours
from decenter.bench.scaling import wide_model

for k in (150, 600, 1200):
    m = wide_model(k)
    t = time.process_time()
    ours(m)
    a = time.process_time() - t
    t = time.process_time()
    theirs(m)
    b = time.process_time() - t
    print(k, len(m.free_RVs), f"ours {a:.2f}s pymc {b:.2f}s ratio {b / a:.1f}", flush=True)

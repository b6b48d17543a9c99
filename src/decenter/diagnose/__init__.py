"""Sampling and what it shows: ``sample`` (the one call: plan, rewrite, sample, ``watch``),
``runs`` (compile and sample, counting gradients), ``compare`` (both forms side by side, with
``summary`` of a run and the ``verdict``)."""

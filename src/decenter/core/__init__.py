"""The compiler pass: the model as a graph (``graph``), the decisions (``plan``, with
``reasons``, ``strategy``, ``fingerprint``), what can be proven positive (``positivity``,
``exprtext``), and applying them on PyMC's FunctionGraph (``rewrite``; ``recenter`` folds
decenter's own offsets back for a second pass)."""

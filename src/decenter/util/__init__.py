"""Small shared helpers: arguments as PyMC takes them (``args``), progress on stderr
(``progress``), plain values for JSON (``jsonable``)."""

"""Reference models shipped with decenter (data included as package data)."""

"""What a user reads: tables for the terminal, text and Markdown (``render``), Jupyter's HTML
and DataFrames (``notebook``), and pictures (``plots``)."""

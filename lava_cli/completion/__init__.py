"""Shell TAB completion answered from a generated index, without loading Typer."""

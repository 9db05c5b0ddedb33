"""The work of each command family: plain functions over AppContext, no Typer, no rich."""

"""Thin Typer layer: one module per command group."""

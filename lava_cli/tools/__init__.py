"""Catalogue behind `lava env`: one data record per tool."""

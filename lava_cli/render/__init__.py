"""Drawing results for people and pipes: the only package that imports rich."""

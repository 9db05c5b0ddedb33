"""Fuzzers: generated CLI arguments, a hostile stand-in server, schema fuzzing.

Their settings and the figure reporting are shared with the canary hunt and the crash
test, so they live in tests/helpers/fuzz.py.
"""

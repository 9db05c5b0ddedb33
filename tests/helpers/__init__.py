"""Helpers shared by every test folder: the one home for each kind of test machinery.

A test imports from here (or uses a fixture of the root ``tests/conftest.py``), never
from another test folder or another test module, so moving or deleting one test file
cannot break an unrelated one.

- ``env``       the environment for a child process: this one without ``LAVA_*``
- ``process``   ``lava(...)``/``spawn_lava(...)``: the real CLI as a child process
- ``terminal``  the real CLI with stdout and stderr on pseudo-terminals
- ``servers``   raw-socket stand-ins: a server that misbehaves on purpose, a proxy
- ``clock``     the one fake clock (stopped, or real time plus an offset)
- ``emulators`` the emulator as a child process (``lava emulator serve``)
- ``ledger``    spend recorded straight in the emulator's ledger (``charge``)
- ``gateway``   an in-thread emulator with a fake clock, plus SDK clients for the gateway
- ``fuzz``      hypothesis settings for the fuzzers, and how figures are reported
- ``real_api``  the opt-in settings for running against a real Lava endpoint
- ``speed``     the pytest plugin that keeps the ``slow`` marker honest (``make check``)
"""

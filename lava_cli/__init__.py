"""lava: manage Lava spend keys from a terminal, scripts and CI.

Only the version lives here: this module is imported on every start, so it must
import nothing heavy.
"""

__version__ = "0.1.0"

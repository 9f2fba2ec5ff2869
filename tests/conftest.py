"""Settings for the whole suite.

Batch scoring compiles a LightGBM model's trees in a background process; left on, every test
scoring a LightGBM model would start a compiler process beside the suite. It is switched off
here (for the test processes and the CLI processes they start) and switched on by the tests of
compiled trees, each with its own cache folder.
"""

from __future__ import annotations

import os
import tempfile

os.environ["LOOPML_COMPILE_TREES"] = "0"
os.environ.setdefault("LOOPML_CACHE_DIR", tempfile.mkdtemp(prefix="loopml-test-cache-"))

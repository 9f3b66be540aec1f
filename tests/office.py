"""LibreOffice, a reader of workbooks that nobody here wrote (`apt-get install libreoffice-calc-nogui`).

Without it its tests are skipped with the reason; with CI=true they fail instead (CI installs it).
"""

from __future__ import annotations

import os
import shutil

import pytest

OFFICE = shutil.which("soffice") or shutil.which("libreoffice")
IN_CI = os.environ.get("CI", "").lower() == "true"

needs_office = pytest.mark.skipif(not OFFICE and not IN_CI, reason="LibreOffice not installed")

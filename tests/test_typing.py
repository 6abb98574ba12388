"""The stubs are precise enough for strict users: ``mypy --strict`` passes on the package,
the examples and this test suite (the settings are in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_strict_passes_on_the_package_examples_and_tests(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "Success: no issues found" in r.stdout


def test_mypy_catches_misspelt_and_mistyped_keywords(tmp_path: Path) -> None:
    user_code = tmp_path / "user_code.py"
    user_code.write_text(
        "import kubesession as ks\n"
        "s = ks.Session('https://h', tokn='x')\n"  # 2: misspelt
        "s.get('/api', stream='yes')\n"  # 3: not a bool
        "s.watch('/api/v1/pods', transport='grpc')\n"  # 4: not a transport
        "n: int = s.get('/api').status_code\n"  # 5: fine
        "ev = next(s.watch('/api/v1/pods'))\n"
        "t: int = ev.type\n"  # 7: a str
        "ks.testing.FakeCluster().session(token='x')\n"  # 8: the cluster brings the token
    )
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
                        str(user_code)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    lines = {int(line.split(":")[1]) for line in r.stdout.splitlines() if line.startswith(str(user_code))}
    assert lines == {2, 3, 4, 7, 8}, r.stdout

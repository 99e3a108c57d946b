"""The committed gRPC modules match proto/ (regenerate with scripts/gen-proto)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_modules_are_up_to_date(tmp_path):
    subprocess.run([str(ROOT / "scripts" / "gen-proto"), str(tmp_path)], check=True, cwd=ROOT)
    for generated in sorted((tmp_path / "billy" / "v1").glob("*_pb2*.py*")):
        committed = ROOT / "src" / "billy" / "v1" / generated.name
        assert committed.read_text() == generated.read_text(), f"{committed} is stale: run scripts/gen-proto"

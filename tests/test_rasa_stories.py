"""Rasa's own test runner on the test stories: every predicted action and NLU result must match."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.settings import ROOT


def test_rasa_test_stories(tmp_path) -> None:  # noqa: ANN001
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--stories", "tests/stories", "--model", "models",
         "--out", str(tmp_path), "--fail-on-prediction-errors"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    failed = (tmp_path / "failed_test_stories.yml").read_text("utf-8") if result.returncode else ""
    assert result.returncode == 0, failed or result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "story_report.json").read_text("utf-8"))
    assert report["conversation_accuracy"]["accuracy"] == 1.0

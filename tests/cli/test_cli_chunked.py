"""`loopml profile/validate --chunked`: big-file mode, forced on a small file, gives the same
results as the in-memory mode, and quarantines every bad row with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from loopml.cli import app

runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.integers(1, 72, n),
            "charges": np.round(rng.uniform(20, 120, n), 2),
            "plan": rng.choice(["basic", "plus", "pro"], n),
            "churn": np.where(rng.random(n) < 0.3, "yes", "no"),
        }
    )


def test_chunked_profile_and_validation_match_the_in_memory_ones(tmp_path: Path) -> None:
    _frame(400, 0).to_csv(tmp_path / "train.csv", index=False)
    folder = tmp_path / "proj"
    invoke("init", "--data", str(tmp_path / "train.csv"), "--target", "churn", "-p", str(folder))
    charter = yaml.safe_load((folder / "loopml.yaml").read_text())
    charter["validation"] = "quarantine"
    (folder / "loopml.yaml").write_text(yaml.safe_dump(charter))
    batch = _frame(300, 1)
    batch["tenure"] = batch["tenure"].astype(object)
    batch.loc[[3, 150, 299], "tenure"] = ["many", "?", "lots"]
    batch.loc[[7, 200], "plan"] = "platinum"
    batch.to_csv(tmp_path / "batch.csv", index=False)

    def run(*mode: str) -> dict:
        out = json.loads(
            invoke(
                "validate",
                "--data",
                str(tmp_path / "batch.csv"),
                *mode,
                "-p",
                str(folder),
                "--json",
            )
        )
        assert isinstance(out, dict)
        return out

    chunked, whole = run("--chunked"), run("--in-memory")
    assert chunked.pop("chunked") is True and whole.pop("chunked") is False
    files = [Path(chunked.pop("quarantine")), Path(whole.pop("quarantine"))]
    assert chunked == whole, (chunked, whole)
    assert chunked["n_bad_rows"] == 5, chunked
    quarantined = [pd.read_csv(f) for f in files]
    assert quarantined[0].equals(quarantined[1]) and len(quarantined[0]) == 5
    assert "tenure: dtype" in quarantined[0]["_loopml_reason"].tolist()
    output = invoke(
        "validate", "--data", str(tmp_path / "batch.csv"), "--chunked", "-p", str(folder)
    )
    assert "Quarantined 5 of 300 rows" in output

    profiles = [
        json.loads(
            invoke(
                "profile",
                "--data",
                str(tmp_path / "batch.csv"),
                mode,
                "--output",
                str(tmp_path / mode.strip("-")),
                "-p",
                str(folder),
                "--json",
            )
        )
        for mode in ("--chunked", "--in-memory")
    ]
    for profile in profiles:
        for key in ("generated_at", "report_html", "report_json", "memory_bytes"):
            profile.pop(key)
    assert profiles[0] == profiles[1]
    assert profiles[0]["columns"]["tenure"]["kind"] == "category"


def test_chunked_mode_needs_a_csv_or_parquet_file(tmp_path: Path) -> None:
    _frame(50, 0).to_json(tmp_path / "rows.json", orient="records")
    output = invoke(
        "profile",
        "--data",
        str(tmp_path / "rows.json"),
        "--chunked",
        "--output",
        str(tmp_path / "o"),
        code=2,
    )
    assert "only CSV, TSV and Parquet files are read in chunks" in output

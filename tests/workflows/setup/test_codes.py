"""Computer/code YAML specs: required fields, placeholders and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.setup.codes import CODE_FIELDS, COMPUTER_FIELDS, SetupSpecError, load_spec
from workflows.setup.paths import PROFILES_DIR


@pytest.mark.parametrize("name", ["computer-localhost.yaml", "computer-slurm.yaml"])
def test_shipped_computers_are_complete(name: str) -> None:
    spec = load_spec(PROFILES_DIR / name, COMPUTER_FIELDS)
    assert "{work_dir}" not in spec["work_dir"]
    assert int(spec["mpiprocs_per_machine"]) >= 1
    assert "{tot_num_mpiprocs}" in spec["mpirun_command"]


@pytest.mark.parametrize("code", ["pw", "projwfc", "pp", "dos"])
def test_shipped_codes_are_complete(code: str) -> None:
    spec = load_spec(PROFILES_DIR / f"code-{code}.yaml", CODE_FIELDS)
    assert spec["executable"] == f"{code}.x"
    assert spec["default_calc_job_plugin"] == f"quantumespresso.{code}"


def test_cluster_template_placeholders_are_rejected() -> None:
    with pytest.raises(SetupSpecError, match="placeholders"):
        load_spec(PROFILES_DIR / "computer-cluster-template.yaml", COMPUTER_FIELDS)


def test_missing_fields_named(tmp_path: Path) -> None:
    spec = tmp_path / "c.yaml"
    spec.write_text("label: x\nhostname: y\n")
    with pytest.raises(SetupSpecError, match="missing required fields"):
        load_spec(spec, COMPUTER_FIELDS)
    with pytest.raises(SetupSpecError, match="does not exist"):
        load_spec(tmp_path / "nope.yaml", COMPUTER_FIELDS)

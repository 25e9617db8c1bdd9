"""pw.x progress from the tail of its output, on a recorded real QE 6.7 MD run.

Reference: the recorded output itself (tests/fixtures/qe67_md_cds_fixed/fixed.out),
counted with plain string operations over the whole file.
"""

from __future__ import annotations

from pathlib import Path

from heterostructures.io.pw_progress import pw_progress, read_tail

MD_OUTPUT = Path(__file__).parents[2] / "fixtures" / "qe67_md_cds_fixed" / "fixed.out"


def test_tail_gives_the_last_md_step_and_scf_iteration() -> None:
    text = MD_OUTPUT.read_text()
    md_steps = text.count("Entering Dynamics:")
    last_iteration = int(text.rsplit("iteration #", 1)[1].split()[0])
    progress = pw_progress(read_tail(MD_OUTPUT, 8192))
    assert progress.md_step == md_steps
    assert progress.scf_iteration == last_iteration
    assert progress.bfgs_step is None
    assert progress.describe() == f"MD step {md_steps}, SCF it {last_iteration}"


def test_tail_reads_only_the_end_and_tolerates_missing_files(tmp_path: Path) -> None:
    assert len(read_tail(MD_OUTPUT, 1000).encode()) <= 1000
    assert MD_OUTPUT.read_text().endswith(read_tail(MD_OUTPUT, 1000))
    assert read_tail(tmp_path / "absent.out") == ""
    assert pw_progress("").describe() == ""

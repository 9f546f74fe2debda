"""The deployment recipe agrees with the project: the container's torch is the pinned one, its
`test` command is the README's, and every SEQVIZ_ setting the code reads is documented."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_container_installs_the_pinned_torch_and_runs_the_readme_test_command():
    dockerfile = (ROOT / "Dockerfile").read_text()
    pinned = re.search(r"^torch==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f'"torch=={pinned}"' in dockerfile and "-r requirements.txt" in dockerfile
    readme = (ROOT / "README.md").read_text()
    test_command = re.search(r"```bash\n(python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt"
                             r" && .*?)\n```", readme).group(1)
    entrypoint = (ROOT / ".ci" / "docker-entrypoint.sh").read_text()
    tail = test_command.split("requirements-dev.txt && ", 1)[1]        # the venv exists in the image
    assert tail in entrypoint and "requirements-dev.txt" in entrypoint and "CI=true" in entrypoint
    assert "streamlit run app.py" in entrypoint and "EXPOSE 8501" in dockerfile
    assert "/_stcore/health" in dockerfile and "USER seqviz" in dockerfile


def test_every_setting_the_code_reads_is_in_the_readme():
    read = set()
    for path in [ROOT / "app.py", *ROOT.glob("seqviz/**/*.py")]:
        read |= set(re.findall(r"\"(SEQVIZ_[A-Z_]+)\"", path.read_text()))
    assert {"SEQVIZ_MAX_JOBS", "SEQVIZ_JOBS_MEMORY_MB", "SEQVIZ_MAX_JOB_S", "SEQVIZ_MAX_STEP_S",
            "SEQVIZ_SESSION_GRACE_S", "SEQVIZ_THREADS", "SEQVIZ_JOB_NICE", "SEQVIZ_FIGURES"} <= read
    readme = (ROOT / "README.md").read_text()
    assert not [name for name in read if f"`{name}`" not in readme]

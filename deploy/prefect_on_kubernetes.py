"""Register deploy/prefect.yaml's deployments on the Kubernetes work pool.

    python deploy/prefect_on_kubernetes.py --image accountops:0.1.0 --namespace NAMESPACE
    python deploy/prefect_on_kubernetes.py --image accountops:0.1.0 --namespace N --print

prefect.yaml stays the one list of deployments (flows, parameters, schedules, the pull
step). This changes only each deployment's work pool: the Kubernetes pool
`accountops-k8s`, the image its flow-run Jobs run and the namespace they start in; it
writes the result to a temporary prefect file and runs
`prefect --no-prompt deploy --all --prefect-file <that file>` from the current folder
(the project root, /app in the image). `--print` writes the file to standard output and
deploys nothing. The Job deploy/kubernetes/60-prefect-deploy-job.yaml runs it after
creating the pool.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

POOL = "accountops-k8s"
PREFECT_FILE = Path(__file__).resolve().parent / "prefect.yaml"


def kubernetes_deployments(prefect_yaml: dict[str, Any], image: str, namespace: str) -> dict:
    """prefect.yaml's content with every deployment moved to the Kubernetes pool."""
    moved = copy.deepcopy(prefect_yaml)
    for deployment in moved.get("deployments") or []:
        deployment["work_pool"] = {
            "name": POOL,
            "job_variables": {"image": image, "namespace": namespace},
        }
    return moved


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True, help="Image of the flow-run Jobs.")
    parser.add_argument("--namespace", required=True, help="Namespace of the flow-run Jobs.")
    parser.add_argument("--prefect-file", type=Path, default=PREFECT_FILE)
    parser.add_argument("--print", action="store_true", help="Print the file; deploy nothing.")
    args = parser.parse_args(argv)
    if not args.namespace.strip():
        parser.error("--namespace is empty (in the Job it comes from the pod's namespace)")

    source = yaml.safe_load(args.prefect_file.read_text(encoding="utf-8"))
    text = yaml.safe_dump(
        kubernetes_deployments(source, args.image, args.namespace), sort_keys=False
    )
    if args.print:
        sys.stdout.write(text)
        return 0
    prefect = shutil.which("prefect")
    if prefect is None:
        print("prefect_on_kubernetes: the prefect command is not on PATH", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        moved = Path(folder) / "prefect-kubernetes.yaml"
        moved.write_text(text, encoding="utf-8")
        # A fixed argument list (the prefect CLI, our own file), no shell.
        command = [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(moved)]
        return subprocess.call(command)  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

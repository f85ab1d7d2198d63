"""The production files in deploy/ (Dockerfile, compose.yaml, kubernetes/), checked
without a container engine: every file parses, the compose file and the manifests hold
together (services, health checks, volumes, secrets only from the environment), the
image runs as a non-root user with the lock's pins, and every command the containers
run is a real command of this checkout, run here outside a container.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
BIN = Path(sys.executable).parent  # the venv the tests run in: accountops and prefect
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
APP_IMAGE = f"accountops:{VERSION}"
WORKER_IMAGE = f"accountops-kubernetes-worker:{VERSION}"
SECRET_NAME = "accountops-secrets"
# Environment names that hold a secret, or a URL that may carry one.
SECRET_ENV = re.compile(r"PASSWORD|SECRET|TOKEN|AUTH_STRING|API_KEY|DATABASE_URL", re.I)


# --- reading the files ------------------------------------------------------------------


def load_yaml(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def compose() -> dict[str, Any]:
    return load_yaml(DEPLOY / "compose.yaml")[0]


def manifests() -> list[tuple[str, dict[str, Any]]]:
    """(file name, object) for every object in deploy/kubernetes/."""
    return [
        (path.name, doc) for path in sorted(KUBERNETES.glob("*.yaml")) for doc in load_yaml(path)
    ]


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of every Deployment and Job."""
    return [
        (f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"])
        for _, obj in manifests()
        if obj["kind"] in {"Deployment", "Job"}
    ]


def containers() -> list[tuple[str, dict[str, Any]]]:
    return [(owner, c) for owner, spec in pod_specs() for c in spec["containers"]]


def dockerfile_stages() -> list[dict[str, Any]]:
    """The Dockerfile's stages in order: name, base and instructions (continuation
    lines joined, comments dropped), enough to read USER, COPY, RUN, CMD and ENV."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        logical.append(pending.strip())
        pending = ""
    stages: list[dict[str, Any]] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.I)
            assert match, f"unreadable FROM line: {line}"
            stages.append({"base": match[1], "name": match[2], "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, args.strip()))
    return stages


def instructions(stage: dict[str, Any], keyword: str) -> list[str]:
    return [args for kw, args in stage["instructions"] if kw == keyword]


def effective(stages: list[dict[str, Any]], index: int, keyword: str) -> str | None:
    """The last KEYWORD of a stage, or of the stage it is built FROM (USER, CMD, ...)."""
    stage = stages[index]
    found = instructions(stage, keyword)
    if found:
        return found[-1]
    parents = [i for i, s in enumerate(stages[:index]) if s["name"] == stage["base"]]
    return effective(stages, parents[-1], keyword) if parents else None


def readme_section() -> str:
    """deploy/README.md's "Containers and Kubernetes" section."""
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    start = text.index("## Containers and Kubernetes")
    end = text.find("\n## ", start + 3)
    return text[start : end if end != -1 else len(text)]


def table_first_column(text: str, header: str) -> set[str]:
    """The `code` names in the first column of the Markdown table whose first header
    cell is HEADER."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    names: set[str] = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        names.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


def split_shell(argv: list[str]) -> list[list[str]]:
    """The commands an argument list runs: `sh -c "a && b"` is two."""
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def container_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) for everything a container of ours runs."""
    found: list[tuple[str, list[str]]] = []
    stages = dockerfile_stages()
    for i, stage in enumerate(stages):
        cmd = effective(stages, i, "CMD")
        assert cmd and cmd.startswith("["), f"stage {stage['name']}: CMD must be exec form"
        found.append((f"Dockerfile stage {stage['name'] or i}", json.loads(cmd)))
    for name, service in compose()["services"].items():
        if "command" in service:
            command = service["command"]
            argv = command if isinstance(command, list) else shlex.split(command)
            found.append((f"compose service {name}", [str(a) for a in argv]))
    for owner, container in containers():
        argv = container.get("command", []) + container.get("args", [])
        found.append((f"{owner} container {container['name']}", argv))
    return [(where, cmd) for where, argv in found for cmd in split_shell(argv)]


def helper_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ACCOUNTOPS_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        ACCOUNTOPS_DATABASE_URL=f"sqlite:///{tmp_path / 'accountops.db'}",
        COLUMNS="250",
        NO_COLOR="1",
    )
    return env


# --- every file parses ------------------------------------------------------------------


def test_every_yaml_and_json_file_under_deploy_parses() -> None:
    files = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
    assert {p.name for p in files} >= {"compose.yaml", "prefect.yaml", "00-config.yaml"}
    for path in files:
        assert load_yaml(path), f"{path.relative_to(ROOT)} holds no document"
    for path in DEPLOY.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


# --- Dockerfile ---------------------------------------------------------------------------


def test_every_image_runs_as_a_numeric_non_root_user() -> None:
    stages = dockerfile_stages()
    assert stages, "deploy/Dockerfile has no FROM"
    for i, stage in enumerate(stages):
        user = effective(stages, i, "USER")
        assert user, f"stage {stage['name'] or i} runs as root (no USER)"
        uid = user.split(":")[0]
        # Numeric, so Kubernetes' runAsNonRoot can verify it; and not root.
        assert uid.isdigit() and int(uid) != 0, f"stage {stage['name'] or i}: USER {user}"
    uids = {str(spec["securityContext"]["runAsUser"]) for _, spec in pod_specs()}
    assert uids == {effective(stages, len(stages) - 1, "USER").split(":")[0]}


def test_the_image_installs_the_lock_pins_then_the_project_like_dev_py() -> None:
    app = dockerfile_stages()[0]
    runs = " ".join(instructions(app, "RUN"))
    assert "pip install -c requirements.lock.txt" in runs
    assert "pip install --no-deps -e ." in runs  # dev.py setup's second step
    # The code is read-only for the app user: its bytecode is compiled into the image.
    assert "compileall -q models flows dashboards expectations" in runs
    assert any("requirements.lock.txt" in c for c in instructions(app, "COPY"))
    # -c pins only what the lock names: every runtime dependency must be in it.
    lock = (ROOT / "requirements.lock.txt").read_text(encoding="utf-8")
    pinned = {norm(m) for m in re.findall(r"^([A-Za-z0-9._-]+)==", lock, re.M)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # The scale extra too: the image is also a Dask scheduler and worker (scale-out).
    assert "p['dependencies'] + p['optional-dependencies']['scale']" in runs
    deps = project["dependencies"] + project["optional-dependencies"]["scale"]
    missing = [d for d in deps if norm(re.match(r"[A-Za-z0-9._-]+", d)[0]) not in pinned]
    assert not missing, f"not pinned in requirements.lock.txt (re-lock): {missing}"


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_kubernetes_worker_pins_agree_with_the_lock() -> None:
    lock = dict(
        (norm(n), v)
        for n, v in re.findall(
            r"^([A-Za-z0-9._-]+)==(\S+)", (ROOT / "requirements.lock.txt").read_text(), re.M
        )
    )
    extra = (DEPLOY / "kubernetes-worker-requirements.txt").read_text(encoding="utf-8")
    lines = [line for line in extra.splitlines() if line.strip() and not line.startswith("#")]
    assert any(line.startswith("prefect-kubernetes==") for line in lines)
    for line in lines:
        name, sep, version = line.partition("==")
        assert sep, f"unpinned: {line}"
        assert lock.get(norm(name), version) == version, f"{line} vs the lock's {lock[norm(name)]}"
    stage = next(s for s in dockerfile_stages() if s["name"] == "kubernetes-worker")
    assert any("kubernetes-worker-requirements.txt" in r for r in instructions(stage, "RUN"))


def test_the_dockerfile_copies_what_exists_and_no_secret() -> None:
    for stage in dockerfile_stages():
        for args in instructions(stage, "COPY"):
            *sources, _target = shlex.split(args)
            for source in (s for s in sources if not s.startswith("--")):
                assert (ROOT / source).exists(), f"COPY {source}: not in the project"
                assert "secrets.toml" not in source and ".env" not in source
        for kw in ("ENV", "ARG"):
            for line in instructions(stage, kw):
                names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", line)
                assert not [n for n in names if SECRET_ENV.search(n)], f"{kw} {line}"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert ".streamlit/secrets.toml" in ignore and ".venv" in ignore


def test_the_dashboard_image_has_a_health_check_and_signal_forwarding() -> None:
    stages = dockerfile_stages()
    final = len(stages) - 1
    assert "/_stcore/health" in effective(stages, final, "HEALTHCHECK")
    assert "8501" in effective(stages, final, "HEALTHCHECK")
    assert json.loads(effective(stages, final, "ENTRYPOINT"))[0] == "tini"
    assert "install -y --no-install-recommends tini" in " ".join(instructions(stages[0], "RUN"))
    assert json.loads(effective(stages, final, "CMD"))[:2] == ["accountops", "dashboard"]


# --- compose.yaml -----------------------------------------------------------------------


ONE_SHOT = {"migrate", "prefect-deploy"}


def test_compose_has_the_services_the_readme_lists() -> None:
    listed = table_first_column(readme_section(), "compose service")
    services = set(compose()["services"])
    assert services == listed
    assert services >= {"postgres", "prefect-server", "migrate", "worker", "dashboard"}


def test_every_long_running_service_has_a_health_check_and_waits_for_healthy_ones() -> None:
    services = compose()["services"]
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", f"{name} runs once"
            continue
        assert service.get("restart") == "unless-stopped", name
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        for dependency, how in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else ("service_healthy")
            )
            assert how["condition"] == expected, f"{name} -> {dependency}"
    assert {"postgres", "prefect-server", "migrate"} <= set(services["worker"]["depends_on"])
    assert "migrate" in services["dashboard"]["depends_on"]
    # The dashboard on this machine only; other machines come in through the TLS proxy.
    assert services["dashboard"]["ports"] == ["127.0.0.1:8501:8501"]
    assert services["proxy"]["ports"] == ["80:80", "443:443"]
    assert services["proxy"]["configs"] == [
        {"source": "caddyfile", "target": "/etc/caddy/Caddyfile"}
    ]
    assert compose()["configs"]["caddyfile"] == {"file": "./Caddyfile"}
    prefect_ports = services["prefect-server"]["ports"]
    assert all(p.startswith("127.0.0.1:") for p in prefect_ports), "Prefect has no users"


def test_compose_volumes_are_named_and_declared() -> None:
    spec = compose()
    declared = set(spec.get("volumes") or {})
    used: dict[str, str] = {}
    for name, service in spec["services"].items():
        for mount in service.get("volumes", []):
            source, target = mount.split(":")[:2]
            assert not source.startswith((".", "/", "~")), f"{name}: bind mount {mount}"
            used[source] = target
    assert set(used) == declared
    assert {"postgres-data", "prefect-data", "data"} <= declared
    # The landing folder the nightly deployment reads, under ACCOUNTOPS_HOME.
    assert "data:/app/var" in spec["services"]["worker"]["volumes"]
    assert "data:/app/var" in spec["services"]["dashboard"]["volumes"]  # Data Docs


def secret_values(env: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in env.items():
        if SECRET_ENV.search(key):
            yield key, str(value)


def test_compose_takes_every_secret_from_the_environment() -> None:
    spec = compose()
    checked = 0
    for name, service in spec["services"].items():
        env = service.get("environment") or {}
        assert isinstance(env, dict), f"{name}: environment as a mapping"
        for key, value in secret_values(env):
            checked += 1
            if "://" in value:  # a URL: its password part is a variable
                password = re.match(r"[^:]+://[^:@/]+:([^@]*)@", value)
                assert password, f"{name}: {key} has no password part: {value}"
                value = password[1]
            # The whole value is one required variable: no literal, no default.
            assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", value), f"{name}: {key}={value}"
    assert checked >= 6
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert not re.search(r"\$\{[A-Z_]*(PASSWORD|AUTH_STRING)[A-Z_]*:-", text)


def test_the_dashboard_signs_sessions_with_its_secret_and_keeps_the_shared_settings() -> None:
    spec = compose()
    shared = spec["x-accountops"]["environment"]
    dashboard = spec["services"]["dashboard"]["environment"]
    assert shared.items() <= dashboard.items()  # its own entries add, never replace
    assert dashboard["ACCOUNTOPS_SESSION_SECRET"].startswith("${SESSION_SECRET:?")


def docker_compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=30
    )
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = docker_compose()
    if command is None:
        pytest.skip("no docker client with the compose plugin here (`docker compose version`)")
    env = {k: v for k, v in os.environ.items() if k not in {"POSTGRES_PASSWORD"}}
    config = [*command, "-f", str(DEPLOY / "compose.yaml"), "config", "-q"]
    ok = subprocess.run(
        config,
        env={
            **env,
            "POSTGRES_PASSWORD": "check",
            "PREFECT_AUTH_STRING": "a:b",
            "SESSION_SECRET": "s",
            "ACCOUNTOPS_DOMAIN": "accountops.example.com",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(
        config,
        env={
            **env,
            "PREFECT_AUTH_STRING": "a:b",
            "SESSION_SECRET": "s",
            "ACCOUNTOPS_DOMAIN": "accountops.example.com",
        },
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "POSTGRES_PASSWORD" in refused.stderr


def caddy_config(domain: str, **env: str) -> dict[str, Any]:
    """deploy/Caddyfile as Caddy itself reads it (``caddy adapt``: its JSON configuration)."""
    caddy = shutil.which("caddy")
    if caddy is None:
        if IN_CI:
            pytest.fail("no caddy here: .ci/run installs it (apt-get install caddy)")
        pytest.skip("no caddy here (apt-get install caddy) to read deploy/Caddyfile")
    adapted = subprocess.run(
        [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        env={**os.environ, "ACCOUNTOPS_DOMAIN": domain, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert adapted.returncode == 0, adapted.stderr
    return json.loads(adapted.stdout)


def handlers(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every handler of every route, subroutes included."""
    found: list[dict[str, Any]] = []

    def walk(routes: list[dict[str, Any]]) -> None:
        for route in routes:
            for handler in route.get("handle", []):
                found.append(handler)
                walk(handler.get("routes", []))

    for server in config["apps"]["http"]["servers"].values():
        walk(server["routes"])
    return found


def test_the_tls_proxy_adds_hsts_and_keeps_the_dashboards_security_headers() -> None:
    """The compose set-up's reverse proxy: HTTPS for the domain only, HSTS for a year, the
    dashboard upstream; it removes none of the headers the dashboard sets itself (its
    Content-Security-Policy and X-Frame-Options: tests/e2e/test_sessions.py)."""
    config = caddy_config("accountops.example.com")
    server = next(iter(config["apps"]["http"]["servers"].values()))
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["accountops.example.com"]}]
    headers = [h for h in handlers(config) if h["handler"] == "headers"]
    assert len(headers) == 1
    response = headers[0]["response"]
    hsts = response["set"]["Strict-Transport-Security"][0]
    assert int(re.search(r"max-age=(\d+)", hsts)[1]) >= 365 * 24 * 3600
    assert "includeSubDomains" in hsts
    kept = {"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"}
    assert not kept & (set(response.get("delete", [])) | set(response.get("set", {})))
    proxies = [h for h in handlers(config) if h["handler"] == "reverse_proxy"]
    assert [u["dial"] for p in proxies for u in p["upstreams"]] == ["dashboard:8501"]
    spec = compose()["services"]["proxy"]
    assert spec["environment"]["ACCOUNTOPS_DOMAIN"].startswith("${ACCOUNTOPS_DOMAIN:?")


# --- Kubernetes ---------------------------------------------------------------------------


def test_every_manifest_names_itself_and_no_namespace() -> None:
    objects = manifests()
    kinds = {obj["kind"] for _, obj in objects}
    assert kinds >= {"ConfigMap", "PersistentVolumeClaim", "Job", "Deployment", "Service"}
    for file, obj in objects:
        assert obj.get("apiVersion") and obj.get("kind"), file
        assert obj.get("metadata", {}).get("name"), f"{file}: {obj['kind']} without a name"
        assert "namespace" not in obj["metadata"], f"{file}: applied with -n, never fixed"
    assert all(o["kind"] != "Secret" for _, o in objects), "secrets are created by hand"


def test_every_container_runs_our_image_as_non_root_with_probes() -> None:
    for owner, container in containers():
        assert container["image"] in {APP_IMAGE, WORKER_IMAGE}, f"{owner}: {container['image']}"
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, owner
        if owner.startswith("Deployment/"):
            for probe in ("readinessProbe", "livenessProbe"):
                assert probe in container, f"{owner} has no {probe}"
    for owner, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, owner
        if owner.startswith("Job/"):
            assert spec["restartPolicy"] == "Never", owner


def documented_secret_keys() -> set[str]:
    return set(re.findall(r"--from-literal=([A-Z_]+)=", readme_section()))


def test_manifests_take_secrets_only_from_the_documented_secret() -> None:
    documented = documented_secret_keys()
    assert documented == {
        "ACCOUNTOPS_DATABASE_URL",
        "PREFECT_API_AUTH_STRING",
        "ACCOUNTOPS_SESSION_SECRET",
    }
    for owner, container in containers():
        for var in container.get("env", []):
            if SECRET_ENV.search(var["name"]):
                assert "value" not in var, f"{owner}: {var['name']} written inline"
                ref = var["valueFrom"]["secretKeyRef"]
                assert ref["name"] == SECRET_NAME and ref["key"] in documented, owner
    for _, obj in manifests():
        if obj["kind"] == "ConfigMap":
            assert not [k for k in obj["data"] if SECRET_ENV.search(k)], "secret in ConfigMap"


def test_manifests_refer_only_to_objects_they_define() -> None:
    objects = manifests()
    named = {(o["kind"], o["metadata"]["name"]) for _, o in objects}
    pods = {
        o["metadata"]["name"]: o["spec"]["template"]["metadata"]["labels"]
        for _, o in objects
        if o["kind"] == "Deployment"
    }
    for _, obj in objects:
        if obj["kind"] == "Service":
            selector = obj["spec"]["selector"]
            assert any(selector.items() <= labels.items() for labels in pods.values()), obj
    for owner, spec in pod_specs():
        for volume in spec.get("volumes", []):
            claim = volume["persistentVolumeClaim"]["claimName"]
            assert ("PersistentVolumeClaim", claim) in named, f"{owner}: {claim}"
        account = spec.get("serviceAccountName")
        assert account is None or ("ServiceAccount", account) in named, owner
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in named, owner


def test_the_kubernetes_work_pool_runs_flows_in_our_image_with_the_secret_and_data() -> None:
    template = json.loads((DEPLOY / "prefect-kubernetes-job-template.json").read_text())
    variables = template["variables"]["properties"]
    assert variables["image"]["default"] == APP_IMAGE
    pod = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert {"secretRef": {"name": SECRET_NAME}} in container["envFrom"]
    assert {"name": "data", "mountPath": "/app/var"} in container["volumeMounts"]
    claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]}
    named = {o["metadata"]["name"] for _, o in manifests() if o["kind"] == "PersistentVolumeClaim"}
    assert claims <= named
    assert pod["securityContext"]["runAsNonRoot"] is True
    # The worker polls the pool the deploy Job creates and deploys to.
    commands = [argv for where, argv in container_commands() if where.startswith(("Dep", "Job"))]
    worker = next(a for a in commands if a[:3] == ["prefect", "worker", "start"])
    pool = worker[worker.index("--pool") + 1]
    assert worker[worker.index("--type") + 1] == "kubernetes"
    create = next(a for a in commands if a[:3] == ["prefect", "work-pool", "create"])
    assert create[3] == pool and "kubernetes" in create
    spec = importlib.util.spec_from_file_location("pok", DEPLOY / "prefect_on_kubernetes.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert pool == script.POOL


def test_prefect_on_kubernetes_moves_every_deployment_and_changes_nothing_else(
    tmp_path: Path,
) -> None:
    script = [sys.executable, str(DEPLOY / "prefect_on_kubernetes.py")]
    run = subprocess.run(
        [*script, "--image", APP_IMAGE, "--namespace", "accounts", "--print"],
        capture_output=True,
        text=True,
        timeout=60,
        env=helper_env(tmp_path),
    )
    assert run.returncode == 0, run.stderr
    moved = yaml.safe_load(run.stdout)
    source = load_yaml(DEPLOY / "prefect.yaml")[0]
    assert [d["name"] for d in moved["deployments"]] == [d["name"] for d in source["deployments"]]
    for before, after in zip(source["deployments"], moved["deployments"], strict=True):
        assert after.pop("work_pool") == {
            "name": "accountops-k8s",
            "job_variables": {"image": APP_IMAGE, "namespace": "accounts"},
        }
        before.pop("work_pool", None)
        assert after == before
    assert {k: v for k, v in moved.items() if k != "deployments"} == {
        k: v for k, v in source.items() if k != "deployments"
    }
    empty = subprocess.run(
        [*script, "--image", APP_IMAGE, "--namespace", "", "--print"],
        capture_output=True,
        text=True,
        env=helper_env(tmp_path),
    )
    assert empty.returncode == 2 and "--namespace is empty" in empty.stderr


# --- the entry points, run here outside a container --------------------------------------


def readme_commands() -> set[str]:
    """The `accountops ...` commands of the project README's command table."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = set()
    for cell in re.findall(r"^\| `accountops ([a-z ]+?)(?: [A-Z\[-]|`)", text, re.M):
        found.add(cell.strip())
    return found


def test_every_container_command_is_a_real_command_of_this_checkout(tmp_path: Path) -> None:
    commands = container_commands()
    programs = {argv[0] for _, argv in commands}
    assert {"accountops", "prefect"} <= programs
    documented = readme_commands()
    assert {"init", "dashboard", "user add"} <= documented
    jobs: dict[tuple[str, ...], str] = {}
    failures = []
    for where, argv in commands:
        program = argv[0]
        if program == "python":  # our scripts in deploy/, run from ACCOUNTOPS_HOME
            if not (ROOT / argv[1]).is_file():
                failures.append(f"{where}: {argv[1]} does not exist")
            continue
        if program not in {"accountops", "prefect"}:
            failures.append(f"{where}: runs {program}, neither accountops nor prefect")
            continue
        words = " ".join(a for a in argv[1:3] if not a.startswith("-"))
        if program == "accountops" and not any(words.startswith(c) for c in documented):
            failures.append(f"{where}: accountops {words} is not in the README's commands")
        jobs.setdefault(tuple(argv), where)

    def help_of(argv: tuple[str, ...]) -> tuple[tuple[str, ...], subprocess.CompletedProcess]:
        # --help after the full command: the command path must exist, and accountops
        # (click) also refuses an unknown option before printing the help.
        return argv, subprocess.run(
            [str(BIN / argv[0]), *argv[1:], "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            env=helper_env(tmp_path),
            cwd=tmp_path,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        for argv, run in pool.map(help_of, jobs):
            where = jobs[argv]
            if run.returncode != 0:
                failures.append(f"{where}: {shlex.join(argv)} --help -> {run.stderr[-300:]}")
                continue
            # Prefect's CLI prints the help whatever the options: each must be in it.
            for option in (a.split("=")[0] for a in argv if a.startswith("--")):
                if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", run.stdout):
                    failures.append(f"{where}: {shlex.join(argv)}: no option {option}")
    assert not failures, "\n".join(failures)


def test_the_migrate_command_and_the_documented_first_admin_run(tmp_path: Path) -> None:
    migrate = next(argv for where, argv in container_commands() if "migrate" in where)
    migrated = tmp_path / "migrated.sqlite"
    env = {
        **helper_env(tmp_path),
        "ACCOUNTOPS_ENV": "prod",
        "ACCOUNTOPS_DATABASE_URL": f"sqlite:///{migrated}",
    }
    for _ in range(2):  # each release runs it again: the second run is a no-op
        init = subprocess.run(
            [str(BIN / migrate[0]), *migrate[1:]], capture_output=True, text=True, env=env
        )
        assert init.returncode == 0, init.stdout + init.stderr
    assert "nothing to do" in init.stdout + init.stderr
    # Every first-admin command of the README section, from `accountops` on, each on a
    # copy of the database the migrate command made.
    lines = [line for line in readme_section().splitlines() if "accountops user add" in line]
    assert len(lines) >= 2, "the compose and the Kubernetes way to add the first admin"
    for i, line in enumerate(lines):
        database = tmp_path / f"copy{i}.sqlite"
        shutil.copy(migrated, database)
        argv = shlex.split(line[line.index("accountops user add") :])
        add = subprocess.run(
            [str(BIN / "accountops"), *argv[1:]],
            input="a long admin passphrase\n",
            capture_output=True,
            text=True,
            env={**env, "ACCOUNTOPS_DATABASE_URL": f"sqlite:///{database}"},
        )
        assert add.returncode == 0, f"{line}: {add.stdout}{add.stderr}"
        assert "added with role admin" in add.stdout + add.stderr


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/_stcore/health" else 503)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_health_check_script_tells_healthy_from_not(health_server: str) -> None:
    def check(url: str) -> int:
        script = str(DEPLOY / "healthcheck.py")
        return subprocess.run([sys.executable, script, url], capture_output=True).returncode

    assert check(f"{health_server}/_stcore/health") == 0
    assert check(f"{health_server}/api/health") == 1  # answered 503
    closed = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    port = closed.server_address[1]
    closed.server_close()
    assert check(f"http://127.0.0.1:{port}/health") == 1  # nobody listening
    assert check("file:///etc/passwd") == 2
    # The URLs the containers check are the ones their servers serve.
    checks = [s.get("healthcheck", {}).get("test", []) for s in compose()["services"].values()]
    urls = {argv[-1] for argv in checks if "deploy/healthcheck.py" in argv}
    assert urls == {
        "http://127.0.0.1:8501/_stcore/health",
        "http://127.0.0.1:4200/api/health",
        "http://127.0.0.1:8080/health",
    }

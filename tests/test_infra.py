"""The production deployment files, checked by the tools that will read them.

Docker, Helm and ECS cannot run here, so each file is checked against the real consumer that
*is* installed: Dagster's own instance-config and workspace validation, the config schemas of
the run launchers and storages it names, and Dagster's CLI parser for every command a
container runs. Cross-file references (build paths, volumes, service names, env vars,
container names) are resolved against the repository. One test runs the production instance
file for real on PostgreSQL.
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import dagster as dg
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.config import pg_config
from dagster._core.workspace.config_schema import WORKSPACE_CONFIG_SCHEMA
from dagster._serdes import ConfigurableClassData

from tests import infra_fixtures
from tests.conftest import postgres_database

moto_endpoint = infra_fixtures.moto_endpoint  # shared fixtures, re-exported for this module
aws_env = infra_fixtures.aws_env

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
IMAGE_WORKDIR = "/opt/dagster/app"  # WORKDIR of infra/Dockerfile: where the repo lives in the image

POOLS = {"platform_api", "llm", "dbt"}
API_SECRETS = {"TWITTERX_APIKEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY"}
INSTANCE_FILES = [INFRA / "dagster.yaml", INFRA / "ecs" / "dagster.yaml", INFRA / "dagster.embedded.yaml"]
PG_ENV = {
    "DAGSTER_PG_HOST": "db.example",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "not-a-real-password",
    "DAGSTER_PG_DB": "dagster",
}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _env_refs(node: Any) -> Iterator[str]:
    """Every environment variable a Dagster config reads through ``{env: NAME}``."""
    if isinstance(node, Mapping):
        if set(node) == {"env"} and isinstance(node["env"], str):
            yield node["env"]
        for value in node.values():
            yield from _env_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _env_refs(value)


@pytest.fixture
def dummy_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Dummy values for every variable the production configs read."""
    values = {**PG_ENV, "SCOUT_RUN_TASK_DEFINITION": "scout", "SCOUT_LOGS_BUCKET": "scout-logs"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


# --- every file parses ----------------------------------------------------------------------


def test_every_yaml_and_json_file_under_infra_loads() -> None:
    files = sorted([*INFRA.rglob("*.yaml"), *INFRA.rglob("*.yml"), *INFRA.rglob("*.json")])
    assert {p.relative_to(INFRA).as_posix() for p in files} >= {
        "dagster.yaml",
        "docker-compose.yaml",
        "workspace.compose.yaml",
        "helm/values.yaml",
        "ecs/dagster.yaml",
        "ecs/task-definition.json",
    }
    for path in files:
        text = path.read_text()
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        assert isinstance(loaded, dict) and loaded, f"{path} is empty or not a mapping"


# --- Dagster instance files -------------------------------------------------------------------


def _configurable_blocks(config: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for section, value in config.items():
        if isinstance(value, Mapping) and {"module", "class"} <= set(value):
            yield section, value


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: p.relative_to(INFRA).as_posix())
def test_instance_file_passes_dagsters_own_validation(path: Path, dummy_env: dict[str, str]) -> None:
    validated, custom_class = dagster_instance_config(str(path.parent), path.name)
    assert custom_class is None
    assert validated["telemetry"] == {"enabled": False}
    assert validated["concurrency"]["pools"]["default_limit"] == 1
    # Each pluggable class must import and accept its config, as DagsterInstance.from_config would.
    for section, block in _configurable_blocks(validated):
        # ConfigurableClassData maps public module paths (dagster.core.*) to the real ones.
        data = ConfigurableClassData(
            block["module"], block["class"], yaml.safe_dump(block.get("config") or {})
        )
        cls = getattr(importlib.import_module(data.module_name), data.class_name)
        result = process_config(cls.config_type(), data.config_dict)
        assert result.success, f"{path.name} {section}: {[e.message for e in result.errors]}"
    storage = validated.get("storage", {})
    if "postgres" in storage:
        resolved = process_config(pg_config(), storage["postgres"])
        assert resolved.success, [e.message for e in resolved.errors]
        db = resolved.value["postgres_db"]
        assert (db["hostname"], db["port"], db["password"]) == ("db.example", 5432, "not-a-real-password")


@pytest.mark.parametrize("path", INSTANCE_FILES[:2], ids=["compose", "ecs"])
def test_production_instances_read_secrets_from_env_only(path: Path) -> None:
    config = _yaml(path)
    db = config["storage"]["postgres"]["postgres_db"]
    assert db == {
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "username": {"env": "DAGSTER_PG_USER"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "db_name": {"env": "DAGSTER_PG_DB"},
    }


def test_missing_storage_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, dummy_env: dict[str, str]
) -> None:
    monkeypatch.delenv("DAGSTER_PG_PASSWORD")
    storage = _yaml(INFRA / "dagster.yaml")["storage"]["postgres"]
    result = process_config(pg_config(), storage)
    assert not result.success
    assert any("DAGSTER_PG_PASSWORD" in error.message for error in result.errors)


@pytest.mark.parametrize("path", INSTANCE_FILES[:2], ids=["compose", "ecs"])
def test_run_retries_leave_asset_failures_to_retry_policies(path: Path) -> None:
    retries = _yaml(path)["run_retries"]
    assert retries == {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False}


def test_production_configs_agree_on_pools_and_tag_limits() -> None:
    compose, ecs = _yaml(INFRA / "dagster.yaml"), _yaml(INFRA / "ecs" / "dagster.yaml")
    helm = _instance_from_helm_values(_yaml(INFRA / "helm" / "values.yaml"))
    for config in (ecs, helm):
        assert config["concurrency"]["pools"] == compose["concurrency"]["pools"]
        keys = [limit["key"] for limit in config["concurrency"]["runs"]["tag_concurrency_limits"]]
        assert keys == [limit["key"] for limit in compose["concurrency"]["runs"]["tag_concurrency_limits"]]
        assert config["run_retries"] == compose["run_retries"]


def test_pools_used_in_code_are_the_documented_ones() -> None:
    deploy_doc = (ROOT / "docs" / "deploy.md").read_text()
    assert all(f"`{pool}`" in deploy_doc for pool in POOLS), "docs/deploy.md must name every pool"
    used = {
        match
        for path in (ROOT / "scout_assets").rglob("*.py")
        for match in re.findall(r"""\bpool\s*=\s*["']([^"']+)["']""", path.read_text())
    }
    assert used <= POOLS, f"pools in code but not in the deployment docs: {sorted(used - POOLS)}"


# --- the production instance, for real, on PostgreSQL -----------------------------------------


@pytest.mark.postgres
def test_production_instance_runs_on_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """infra/dagster.yaml itself, env vars pointed at a fresh database: a run and its event round-trip."""
    from urllib.parse import urlparse

    @dg.asset(pool="platform_api")
    def infra_probe() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"dagster/row_count": 3})

    with postgres_database() as url:
        parsed = urlparse(url)
        env = {
            "DAGSTER_PG_HOST": parsed.hostname or "127.0.0.1",
            "DAGSTER_PG_PORT": str(parsed.port or 5432),
            "DAGSTER_PG_USER": parsed.username or "postgres",
            "DAGSTER_PG_PASSWORD": parsed.password or "",
            "DAGSTER_PG_DB": parsed.path.lstrip("/"),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        home = tmp_path / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text((INFRA / "dagster.yaml").read_text())

        instance = dg.DagsterInstance.from_config(str(home))
        try:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
            assert instance.run_retries_max_retries == 2
            assert instance.run_retries_retry_on_asset_or_op_failure is False
            assert instance.run_monitoring_enabled

            result = dg.materialize([infra_probe], instance=instance)
            assert result.success
            assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
            event = instance.get_latest_materialization_event(dg.AssetKey("infra_probe"))
            assert event is not None and event.run_id == result.run_id
            assert event.asset_materialization.metadata["dagster/row_count"].value == 3

            # The pool took the instance default (1 slot): a second claimant must wait.
            info = instance.event_log_storage.get_concurrency_info("platform_api")
            assert (info.limit, info.using_default_limit) == (1, True)
            storage = instance.event_log_storage
            assert storage.claim_concurrency_slot("platform_api", "run-a", "raw_searches").is_claimed
            assert not storage.claim_concurrency_slot("platform_api", "run-b", "raw_searches").is_claimed
            storage.free_concurrency_slots_for_run("run-a")
            storage.free_concurrency_slots_for_run("run-b")
        finally:
            instance.dispose()

        # The run lives in PostgreSQL, not in files under DAGSTER_HOME.
        import adbc_driver_postgresql.dbapi as pg

        with pg.connect(url) as con, con.cursor() as cur:
            cur.execute("SELECT status FROM runs WHERE run_id = $1", [result.run_id])
            assert cur.fetchall() == [("SUCCESS",)]
        assert not list(home.rglob("*.db"))


# --- commands the containers run ----------------------------------------------------------------

_CLIS = {
    "dagster": "dagster._cli:cli",
    "dagster-webserver": "dagster_webserver.cli:cli",
    "dagster-daemon": "dagster._daemon.cli:cli",
}


def parse_dagster_command(argv: list[str]) -> tuple[str, Mapping[str, Any]]:
    """Parse ``argv`` with the installed Dagster CLI without running it; return (command path, params)."""
    assert argv and argv[0] in _CLIS, f"not a Dagster entry point: {argv}"
    module, attr = _CLIS[argv[0]].split(":")
    command: click.Command = getattr(importlib.import_module(module), attr)
    path, args = [argv[0]], list(argv[1:])
    while isinstance(command, click.Group):
        assert args, f"{shlex.join(argv)}: a sub-command is missing"
        sub = command.get_command(click.Context(command), args[0])
        assert sub is not None, f"{shlex.join(argv)}: unknown sub-command {args[0]!r}"
        command, path, args = sub, [*path, args.pop(0)], args
    context = command.make_context(" ".join(path), args)  # raises click.UsageError on a bad option
    return " ".join(path), context.params


def _module_file(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


def _modules(params: Mapping[str, Any]) -> list[str]:
    """The ``-m`` modules of a parsed command (one string or a tuple, depending on the command)."""
    value = params.get("module_name")
    return [value] if isinstance(value, str) else list(value or ())


def _in_repo(argv: list[str]) -> list[str]:
    """Map paths inside the image (under its WORKDIR) to the same files in this checkout."""
    return [
        str(ROOT / arg.removeprefix(IMAGE_WORKDIR + "/")) if arg.startswith(IMAGE_WORKDIR + "/") else arg
        for arg in argv
    ]


def test_the_cli_parser_rejects_a_bad_command() -> None:
    # Guards the helper: if it accepted anything, every command test below would be empty.
    with pytest.raises(click.UsageError):
        parse_dagster_command(["dagster", "code-server", "start", "--no-such-flag"])
    with pytest.raises(AssertionError, match="unknown sub-command"):
        parse_dagster_command(["dagster", "code-servr", "start"])


# --- docker compose -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _yaml(INFRA / "docker-compose.yaml")


def test_compose_has_the_four_roles(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "scout-code", "webserver", "daemon"}


def test_compose_builds_resolve_to_real_files(compose: dict[str, Any]) -> None:
    images = set()
    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        context = (INFRA / service["build"]["context"]).resolve()
        assert context == ROOT, f"{name}: build context must be the repository root"
        assert (context / service["build"]["dockerfile"]).is_file(), f"{name}: dockerfile missing"
        images.add(service["image"])
    assert len(images) == 1, f"all Scout services must share one image, got {images}"


def test_compose_references_are_defined(compose: dict[str, Any]) -> None:
    services, volumes = compose["services"], set(compose.get("volumes", {}))
    configs = set(compose.get("configs", {}))
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (INFRA / source).exists(), f"{name}: bind-mount source {source} does not exist"
            else:
                assert source in volumes, f"{name}: volume {source!r} is not declared"
        for config in service.get("configs", []):
            assert config["source"] in configs, f"{name}: config {config['source']!r} is not declared"
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on undefined service {dependency!r}"
            if condition.get("condition") == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck to wait for"


def test_compose_commands_parse_and_point_at_real_code(compose: dict[str, Any]) -> None:
    services = compose["services"]
    code_cmd, code_params = parse_dagster_command(services["scout-code"]["command"])
    assert code_cmd == "dagster code-server start"
    assert (code_params["host"], code_params["location_name"]) == ("0.0.0.0", "scout")
    assert _modules(code_params) == ["scout_location.definitions"]
    assert "defs = " in _module_file("scout_location.definitions").read_text()

    workspace_paths = []
    for role, expected in (("webserver", "dagster-webserver"), ("daemon", "dagster-daemon run")):
        command = services[role]["command"]
        cmd, _ = parse_dagster_command(_in_repo(command))  # -w must name a file that exists
        assert cmd == expected
        workspace_paths.append(command[command.index("-w") + 1])
    for role in ("scout-code",):
        health = services[role]["healthcheck"]["test"]
        assert health[0] == "CMD"
        cmd, params = parse_dagster_command(health[1:])
        assert (cmd, params["port"]) == ("dagster api grpc-health-check", code_params["port"])

    # The workspace named on the command line is in the image, and points at the code server.
    assert set(workspace_paths) == {f"{IMAGE_WORKDIR}/infra/workspace.compose.yaml"}
    workspace = _yaml(ROOT / workspace_paths[0].removeprefix(IMAGE_WORKDIR + "/"))
    (location,) = workspace["load_from"]
    assert location["grpc_server"]["host"] in services
    assert location["grpc_server"]["port"] == code_params["port"]

    web_port = parse_dagster_command(_in_repo(services["webserver"]["command"]))[1]["port"]
    assert any(str(port).endswith(f":{web_port}") for port in services["webserver"]["ports"])


def test_compose_passes_the_instance_its_variables(compose: dict[str, Any]) -> None:
    needed = set(_env_refs(_yaml(INFRA / "dagster.yaml")))
    assert needed == set(PG_ENV)
    for name in ("scout-code", "webserver", "daemon"):
        environment = compose["services"][name]["environment"]
        assert needed <= set(environment), f"{name} lacks {sorted(needed - set(environment))}"
    # Storage lives in the database that the postgres service creates.
    postgres_env = compose["services"]["postgres"]["environment"]
    assert compose["services"]["scout-code"]["environment"]["DAGSTER_PG_DB"] == postgres_env["POSTGRES_DB"]


def test_compose_keeps_secrets_in_the_code_location_and_out_of_the_file(compose: dict[str, Any]) -> None:
    services = compose["services"]
    code_env = services["scout-code"]["environment"]
    assert API_SECRETS | {"SCOUT_WAREHOUSE_URL"} <= set(code_env)
    for name in API_SECRETS | {"AWS_SECRET_ACCESS_KEY"}:
        assert re.fullmatch(rf"\$\{{{name}(:-)?\}}", code_env[name]), f"{name} must come from the environment"
    assert "${POSTGRES_PASSWORD" in code_env["SCOUT_WAREHOUSE_URL"]
    for role in ("webserver", "daemon", "postgres"):
        assert not (API_SECRETS & set(services[role].get("environment", {}))), f"{role} must not see API keys"


def test_compose_workspace_passes_dagster_validation() -> None:
    result = process_config(WORKSPACE_CONFIG_SCHEMA, _yaml(INFRA / "workspace.compose.yaml"))
    assert result.success, [e.message for e in result.errors]


# --- Dockerfile ------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (INFRA / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_installs_the_cpu_torch_pin_first_then_the_project() -> None:
    steps = _dockerfile_instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = [arg for op, arg in steps if op == "RUN"]
    torch = next(i for i, arg in enumerate(runs) if "torch==" in arg)
    reqs = next(i for i, arg in enumerate(runs) if "-r requirements.txt" in arg)
    editable = next(i for i, arg in enumerate(runs) if "--no-deps -e ." in arg)
    assert torch < reqs < editable
    assert "download.pytorch.org/whl/cpu" in runs[torch]
    # The same pin as the local installer (infra/scripts/setup.sh), so image and laptop agree.
    pin = re.search(r"torch==[\w.]+", runs[torch]).group(0)
    assert pin in (INFRA / "scripts" / "setup.sh").read_text()
    assert ("WORKDIR", IMAGE_WORKDIR) in steps


def test_dockerfile_copies_exist_and_are_not_ignored() -> None:
    ignored = {
        line.strip().removeprefix("**/")
        for line in (INFRA / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git"} <= ignored
    for op, arg in _dockerfile_instructions():
        if op != "COPY":
            continue
        *sources, _dest = arg.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source {source} does not exist"
            assert source.split("/")[0] not in ignored, f"COPY source {source} is excluded by .dockerignore"
    # Every package the project installs is in the image (a new floor must not be left behind).
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    copied = {arg.split()[0] for op, arg in _dockerfile_instructions() if op == "COPY"}
    assert {name.rstrip("*") for name in packages["include"]} <= copied
    copied_configs = re.findall(r"cp (infra/\S+\.yaml)", (INFRA / "Dockerfile").read_text())
    assert sorted(copied_configs) == ["infra/dagster.yaml", "infra/ecs/dagster.yaml"]


def test_dockerfile_default_command_is_the_code_server() -> None:
    cmd = next(json.loads(arg) for op, arg in _dockerfile_instructions() if op == "CMD")
    path, params = parse_dagster_command(cmd)
    assert path == "dagster code-server start" and _modules(params) == ["scout_location.definitions"]


# --- Helm ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helm() -> dict[str, Any]:
    return _yaml(INFRA / "helm" / "values.yaml")


def test_helm_values_have_what_the_chart_needs(helm: dict[str, Any]) -> None:
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    assert helm["dagster-user-deployments"]["enabled"] is True
    assert deployment["image"]["repository"] and deployment["image"]["tag"]
    assert deployment["image"]["tag"] != "latest", "run pods must pin one image"
    assert helm["runLauncher"]["type"] == "K8sRunLauncher"
    assert helm["postgresql"]["enabled"] is False and helm["postgresql"]["postgresqlHost"]
    assert helm["generatePostgresqlPasswordSecret"] is False and helm["global"]["postgresqlSecretName"]
    assert helm["telemetry"]["enabled"] is False


def test_helm_code_location_args_parse_as_dagster_api_grpc(helm: dict[str, Any]) -> None:
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    args = [*deployment["dagsterApiGrpcArgs"], "-p", str(deployment["port"])]
    path, params = parse_dagster_command(["dagster", "api", "grpc", *args])
    assert path == "dagster api grpc"
    assert [_module_file(m).is_file() for m in _modules(params)] == [True]


def test_helm_secrets_come_from_a_kubernetes_secret(helm: dict[str, Any]) -> None:
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    assert [secret["name"] for secret in deployment["envSecrets"]] == ["scout-secrets"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    inline = {entry["name"] for entry in deployment["env"]}
    assert not inline & (API_SECRETS | {"SCOUT_WAREHOUSE_URL", "AWS_SECRET_ACCESS_KEY"})


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _instance_from_helm_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The dagster.yaml sections the chart renders from these values (helm is not installed here).

    Mirrors the chart's instance templates for the sections Scout sets: storage from
    ``postgresql``, the queued run coordinator (unset keys omitted), run retries/monitoring,
    daemon threads, the top-level ``concurrency`` block and telemetry.
    """
    daemon, pg = values["dagsterDaemon"], values["postgresql"]
    qrc = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    coordinator_config = {
        _snake(key): value for key, value in qrc.items() if value is not None and value != []
    }
    concurrency = values.get("concurrency", {})
    instance: dict[str, Any] = {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": pg["postgresqlUsername"],
                    "password": {"env": "DAGSTER_PG_PASSWORD"},
                    "hostname": pg["postgresqlHost"],
                    "db_name": pg["postgresqlDatabase"],
                    "port": pg["service"]["port"],
                    "params": pg.get("postgresqlParams", {}),
                }
            }
        },
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": daemon["runCoordinator"]["type"],
            "config": coordinator_config,
        },
        "run_retries": {_snake(key): value for key, value in daemon["runRetries"].items()},
        "run_monitoring": {_snake(key): value for key, value in daemon["runMonitoring"].items()},
        "telemetry": values["telemetry"],
    }
    for section in ("sensors", "schedules", "backfills"):
        if section in daemon:
            instance[section] = {_snake(key): value for key, value in daemon[section].items()}
    if concurrency.get("enabled"):
        instance["concurrency"] = {
            "pools": {_snake(key): value for key, value in concurrency["pools"].items()},
            "runs": {_snake(key): value for key, value in concurrency["runs"].items()},
        }
    return instance


def test_helm_rendered_instance_passes_dagster_validation(
    helm: dict[str, Any], tmp_path: Path, dummy_env: dict[str, str]
) -> None:
    # Run limits set both in the coordinator and in `concurrency` make the daemon refuse to start.
    qrc = helm["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert qrc.get("maxConcurrentRuns") is None and not qrc.get("tagConcurrencyLimits")
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(_instance_from_helm_values(helm)))
    validated, _ = dagster_instance_config(str(tmp_path))
    assert (
        validated["concurrency"]["runs"]["max_concurrent_runs"]
        == helm["concurrency"]["runs"]["maxConcurrentRuns"]
    )
    assert validated["run_monitoring"]["max_resume_run_attempts"] == 0


def test_helm_mirror_would_catch_the_double_run_limit(helm: dict[str, Any], tmp_path: Path) -> None:
    # Guards the mirror above: the misconfiguration it exists to catch must fail validation.
    broken = json.loads(json.dumps(helm))
    broken["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]["maxConcurrentRuns"] = 5
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(_instance_from_helm_values(broken)))
    with pytest.raises(dg.DagsterInvalidConfigError, match="max_concurrent_runs"):
        dagster_instance_config(str(tmp_path))


# --- ECS -----------------------------------------------------------------------------------------

_TASK_PLACEHOLDERS = {
    "AWS_ACCOUNT_ID",
    "AWS_REGION",
    "SCOUT_IMAGE",
    "DAGSTER_PG_HOST",
    "SCOUT_LOGS_BUCKET",
    "SCOUT_ARCHIVE_BUCKET",
}


@pytest.fixture(scope="module")
def task_definition() -> dict[str, Any]:
    text = (INFRA / "ecs" / "task-definition.json").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == _TASK_PLACEHOLDERS
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: f"placeholder-{m.group(1).lower()}", text)
    return json.loads(rendered)


def test_ecs_task_definition_matches_the_launcher(task_definition: dict[str, Any]) -> None:
    launcher = _yaml(INFRA / "ecs" / "dagster.yaml")["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_aws.ecs", "EcsRunLauncher")
    (container,) = task_definition["containerDefinitions"]
    assert container["name"] == launcher["config"]["container_name"]
    assert task_definition["family"] in {
        e["value"] for e in container["environment"] if e["name"] == "SCOUT_RUN_TASK_DEFINITION"
    }
    path, params = parse_dagster_command(container["command"])
    assert path == "dagster code-server start" and _modules(params) == ["scout_location.definitions"]
    health = container["healthCheck"]["command"]
    assert parse_dagster_command(health[1:])[1]["port"] == params["port"]
    assert {"containerPort": params["port"], "protocol": "tcp"} in container["portMappings"]


def test_ecs_task_provides_every_variable_the_instance_reads(task_definition: dict[str, Any]) -> None:
    (container,) = task_definition["containerDefinitions"]
    provided = {e["name"] for e in container["environment"]} | {s["name"] for s in container["secrets"]}
    needed = set(_env_refs(_yaml(INFRA / "ecs" / "dagster.yaml")))
    assert needed <= provided, f"missing in the task definition: {sorted(needed - provided)}"
    home = {e["name"]: e["value"] for e in container["environment"]}["DAGSTER_HOME"]
    dockerfile = (INFRA / "Dockerfile").read_text()
    assert f"cp infra/ecs/dagster.yaml {home}/dagster.yaml" in dockerfile


def test_ecs_secrets_are_secrets_manager_references(task_definition: dict[str, Any]) -> None:
    (container,) = task_definition["containerDefinitions"]
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert API_SECRETS | {"DAGSTER_PG_PASSWORD", "SCOUT_WAREHOUSE_URL"} <= set(secrets)
    assert all(value.startswith("arn:aws:secretsmanager:") for value in secrets.values())
    plain = {e["name"] for e in container["environment"]}
    assert not plain & set(secrets), "a secret must not also be plain task environment"
    assert not {name for name in plain if re.search(r"KEY|PASSWORD|SECRET|TOKEN", name)}


def test_ecs_workspace_passes_dagster_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCOUT_CODE_HOST", "scout.scout.local")
    result = process_config(WORKSPACE_CONFIG_SCHEMA, _yaml(INFRA / "ecs" / "workspace.yaml"))
    assert result.success, [e.message for e in result.errors]
    (location,) = result.value["load_from"]
    assert (location["grpc_server"]["host"], location["grpc_server"]["port"]) == ("scout.scout.local", 4000)


def test_ecs_launcher_starts_against_the_registered_task_definition(
    task_definition: dict[str, Any],
    moto_endpoint: str,
    aws_env: None,
    dummy_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The EcsRunLauncher from infra/ecs/dagster.yaml, built as Dagster builds it, against moto_server.

    ECS cannot run here; moto_server answers the ECS API over real HTTP on loopback. The
    launcher looks the task definition up at start and refuses one without its container.
    """
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # every boto3 client, the launcher's included
    registered = boto3.client("ecs").register_task_definition(**task_definition)["taskDefinition"]
    launcher_block = _yaml(INFRA / "ecs" / "dagster.yaml")["run_launcher"]
    data = ConfigurableClassData(
        launcher_block["module"], launcher_block["class"], yaml.safe_dump(launcher_block["config"])
    )
    launcher = data.rehydrate()
    assert launcher.task_definition == registered["taskDefinitionArn"]
    assert launcher.container_name == "scout"

    wrong = {**launcher_block["config"], "container_name": "not-in-the-task"}
    with pytest.raises(Exception, match="not-in-the-task"):
        ConfigurableClassData(
            launcher_block["module"], launcher_block["class"], yaml.safe_dump(wrong)
        ).rehydrate()

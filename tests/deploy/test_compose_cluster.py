"""deploy/compose.cluster.yaml and deploy/nginx.cluster.conf, checked without a Docker engine (there is none here).

The compose file's structure: three hubs from one image on PostgreSQL and a bucket, each waiting for
both, with a health check, its own node id and the shared secrets from .env; every HUB_* name it sets
is a variable the hub reads, and each hub's environment is a valid configuration. The nginx config
passes `nginx -t` with the compose service names mapped to loopback (a rendered copy; the shipped file
is unchanged).
"""
from __future__ import annotations

import re
import shlex

import pytest
import yaml

from hub.config import Config, documented_variables, parse_media_store
from tests.deploy import nginxproc
from tests.integration.hubproc import ROOT, free_port

COMPOSE = ROOT / "deploy" / "compose.cluster.yaml"
NGINX = ROOT / "deploy" / "nginx.cluster.conf"
HUBS = ("hub1", "hub2", "hub3")
SECRETS = ("HUB_API_KEY", "POSTGRES_PASSWORD", "S3_ACCESS_KEY", "S3_SECRET_KEY")
# What `docker compose --env-file .env` would put in for ${NAME...} (the secrets are required: `:?`).
DOTENV = {"HUB_API_KEY": "k" * 32, "POSTGRES_PASSWORD": "pg-secret", "S3_ACCESS_KEY": "hubstore",
          "S3_SECRET_KEY": "s3-secret-123", "HUB_PUBLIC_URL": "https://hub.example.com"}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:\?|:-)?(?P<rest>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(text: str) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} with DOTENV as the .env file."""
    def value(match: re.Match) -> str:
        if match["name"] in DOTENV:
            return DOTENV[match["name"]]
        assert match["op"] == ":-", f"${{{match['name']}}} has no value and no default"
        return match["rest"]
    return INTERPOLATION.sub(value, text).replace("$$", "$")


def address(service: dict) -> str:
    return service["networks"]["default"]["ipv4_address"]


def test_the_services_are_three_hubs_postgres_a_bucket_and_nginx(compose):
    services = compose["services"]
    assert set(services) == {*HUBS, "postgres", "minio", "s3-bucket", "nginx"}
    hubs = [services[name] for name in HUBS]
    assert all(hub["image"] == hubs[0]["image"] and hub["build"]["dockerfile"] == "deploy/Dockerfile" for hub in hubs)
    assert [hub["environment"]["HUB_NODE_ID"] for hub in hubs] == list(HUBS)
    assert len({address(hub) for hub in hubs}) == 3
    assert all("ports" not in hub for hub in hubs), "the hubs are reached through nginx only"
    assert sorted(services["nginx"]["ports"]) == ["443:443", "80:80"]


def test_each_hub_waits_for_healthy_postgres_and_the_bucket_and_has_a_health_check(compose):
    services = compose["services"]
    for name in HUBS:
        hub = services[name]
        assert hub["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                     "s3-bucket": {"condition": "service_completed_successfully"}}
        assert "/api/health" in " ".join(hub["healthcheck"]["test"])
        assert hub["stop_grace_period"] == "30s"  # gunicorn's graceful_timeout (20 s) plus the hand-over
        assert "sessions:/data/sessions" in hub["volumes"]  # every process can open a session it takes over
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["postgres"]["command"] == ["postgres", "-c", "max_connections=200"]  # 35 per hub at peak
    assert services["minio"]["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert services["s3-bucket"]["depends_on"] == {"minio": {"condition": "service_healthy"}}


def test_every_hub_gets_one_valid_configuration_with_the_shared_secrets_from_env(compose):
    environments = [compose["services"][name]["environment"] for name in HUBS]
    shared = [{key: value for key, value in env.items() if key != "HUB_NODE_ID"} for env in environments]
    assert shared[0] == shared[1] == shared[2]
    environment = {key: interpolate(str(value)) for key, value in environments[0].items()}
    config = Config.from_env(environment, dotenv_path="/nonexistent")
    assert config.api_keys == [DOTENV["HUB_API_KEY"]] and config.node_id == "hub1"
    assert config.database_url == "postgresql+psycopg://hub:pg-secret@postgres:5432/hub"
    assert config.s3_endpoint == "http://minio:9000" and parse_media_store(config.media_store).startswith("s3://")
    assert environment["AWS_ACCESS_KEY_ID"] == DOTENV["S3_ACCESS_KEY"]
    assert environment["AWS_SECRET_ACCESS_KEY"] == DOTENV["S3_SECRET_KEY"]
    nginx = address(compose["services"]["nginx"])
    assert [str(network) for network in config.proxy_addresses] == [f"{nginx}/32"] and config.proxies == 1
    for secret in SECRETS:  # never a value in the file: each comes from .env and is required
        assert f"${{{secret}:?" in COMPOSE.read_text(), secret


def test_the_bucket_the_hubs_use_is_the_one_created_with_the_store_credentials(compose):
    services = compose["services"]
    bucket = re.match(r"s3://([^/]+)", services["hub1"]["environment"]["HUB_MEDIA_STORE"])[1]
    command = shlex.split(interpolate(services["s3-bucket"]["command"][0]).replace("&&", " && "))
    assert command[-3:] == ["mb", "--ignore-existing", f"store/{bucket}"]
    assert command[:4] == ["mc", "alias", "set", "store"] and command[4] == "http://minio:9000"
    assert services["minio"]["environment"] == {"MINIO_ROOT_USER": "${S3_ACCESS_KEY:?set S3_ACCESS_KEY in .env}",
                                                "MINIO_ROOT_PASSWORD": "${S3_SECRET_KEY:?set S3_SECRET_KEY in .env}"}


def test_every_hub_variable_the_deploy_files_set_is_one_the_hub_reads():
    known = set(documented_variables())
    for path in (COMPOSE, ROOT / "deploy" / "compose.yaml"):
        services = yaml.safe_load(path.read_text())["services"].values()
        used = {name for service in services for name in service.get("environment", {}) if name.startswith("HUB_")}
        assert used and used <= known, f"{path.name}: {sorted(used - known)}"
    used = set(re.findall(r"\bHUB_[A-Z0-9_]+", (ROOT / "deploy" / "Dockerfile").read_text()))
    assert used and used <= known, f"Dockerfile: {sorted(used - known)}"


def test_nginx_reaches_the_hubs_by_their_compose_names_and_fixed_addresses(compose):
    services = compose["services"]
    upstream = re.findall(r"server (hub\d):(\d+) ", NGINX.read_text())
    assert sorted(set(upstream)) == [(name, "3000") for name in HUBS]  # PORT in deploy/Dockerfile
    assert "./nginx.cluster.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert services["nginx"]["extra_hosts"] == [f"{name}:{address(services[name])}" for name in HUBS]


def test_the_cluster_nginx_config_passes_nginx_t_with_the_hubs_on_loopback(tmp_path):
    nginxproc.skip_without_nginx()
    cert, key = nginxproc.make_certificate(tmp_path)
    replacements = {**nginxproc.local_lines(tmp_path, "nginx", "access.log"),
                    **nginxproc.tls_lines(tmp_path, free_port(), free_port(), cert, key),
                    **{f"server {name}:3000 ": f"server 127.0.0.1:{free_port()} " for name in HUBS}}
    counts = {f"server {name}:3000 ": 2 for name in HUBS}  # in both upstreams
    rendered = nginxproc.render(NGINX, tmp_path, replacements, counts)
    checked = nginxproc.check(rendered)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr

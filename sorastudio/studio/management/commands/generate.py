"""Create a generation from the command line, through the same pipeline as the form."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from sorastudio.studio import providers, tasks
from sorastudio.studio.forms import GenerationForm
from sorastudio.studio.middleware import ensure_personal_team
from sorastudio.studio.models import Generation, Membership


class Command(BaseCommand):
    help = "Generate a video. Prints one JSON object per line; with --wait, exits 0 only if it succeeded."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Django gives every command a --version that prints Django's; here --version is the API version.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--prompt", required=True)
        parser.add_argument("--user", required=True, help="username of the person asking")
        parser.add_argument("--model", default="sora-2")
        parser.add_argument("--version", dest="api_version", default="1.0", help="API version: 1.0 or 2.0")
        parser.add_argument("--duration", type=int)
        parser.add_argument("--size")
        parser.add_argument("--orientation")
        parser.add_argument("--image-url", action="append", default=[], dest="image_urls")
        parser.add_argument("--character-url")
        parser.add_argument("--character-start", type=int)
        parser.add_argument("--character-end", type=int)
        parser.add_argument("--wait", action="store_true", help="wait until the job ends")
        parser.add_argument(
            "--wait-timeout", type=float, default=3600, help="give up waiting after N seconds"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        user = get_user_model().objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"No user named {opts['user']!r}.")
        membership = (
            Membership.objects.filter(user=user).select_related("team").order_by("created_at").first()
        )
        team = membership.team if membership else ensure_personal_team(user)

        data = QueryDict(mutable=True)
        data.update({"prompt": opts["prompt"], "model": opts["model"], "version": opts["api_version"]})
        for name in ("duration", "size", "orientation", "character_url", "character_start", "character_end"):
            if opts.get(name) is not None:
                data[name] = str(opts[name])
        data["image_urls"] = "\n".join(opts["image_urls"])
        form = GenerationForm(data)
        if not form.is_valid():
            problems = "; ".join(
                f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items()
            )
            raise CommandError(f"Cannot generate: {problems}")

        generation = Generation.create_for(
            team=team,
            user=user,
            simulated=providers.is_simulated(providers.ACEDATA),
            **form.generation_params(),
        )
        tasks.start(generation)
        self._emit(generation)
        if not opts["wait"]:
            return
        deadline = time.monotonic() + opts["wait_timeout"]
        last_state = generation.state
        while generation.is_live and time.monotonic() < deadline:
            time.sleep(1)
            generation.refresh_from_db()
            if generation.state != last_state:
                last_state = generation.state
                if generation.is_live:
                    self._emit(generation)
        self._emit(generation)
        if generation.state != "succeeded":
            sys.exit(1)

    def _emit(self, generation: Generation) -> None:
        self.stdout.write(json.dumps(describe(generation)))
        self.stdout.flush()


def describe(generation: Generation) -> dict[str, Any]:
    return {
        "id": str(generation.pk),
        "state": generation.state,
        "error": (generation.error_code and f"{generation.error_code}: {generation.explanation}") or None,
        "video_path": generation.video.path if generation.video and _local(generation) else None,
        "sha256": generation.sha256 or None,
        "upstream_task_id": generation.upstream_task_id or None,
        "trace_id": generation.trace_id or None,
    }


def _local(generation: Generation) -> bool:
    try:
        generation.video.path  # noqa: B018 - remote storages have no local path
    except NotImplementedError:
        return False
    return True

"""Create a generation from the command line, through the same pipeline as the form."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from sorastudio.billing.costs import cost_of, outcome_of
from sorastudio.billing.models import ProviderPause, QuotaExceeded
from sorastudio.lib import capabilities
from sorastudio.pipeline import providers, submit, tasks
from sorastudio.studio import presenters
from sorastudio.studio.forms import GenerationForm
from sorastudio.studio.models import Generation
from sorastudio.teams.middleware import personal_team_if_allowed
from sorastudio.teams.models import Membership

QUOTA_EXCEEDED = 3  # the exit status when a limit refuses the request
MAX_JOBS = 500  # a prompt file may be long; the form in the browser stops at 20 a submit


class Command(BaseCommand):
    help = "Generate a video. Prints one JSON object per line; with --wait, exits 0 only if it succeeded."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Django gives every command a --version that prints Django's; here --version is the API version.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--prompt", help="what the video shows")
        what.add_argument("--prompt-file", type=Path, help="a text file: one job per non-empty line")
        parser.add_argument("--user", required=True, help="username of the person asking")
        parser.add_argument("--provider", help="acedata or sora2api (default: the first usable one)")
        parser.add_argument("--model", default="sora-2")
        parser.add_argument("--version", dest="api_version", default="1.0", help="API version: 1.0 or 2.0")
        parser.add_argument("--duration", type=int)
        parser.add_argument("--size")
        parser.add_argument("--orientation")
        parser.add_argument("--aspect-ratio", help="Sora2API: landscape or portrait")
        parser.add_argument("--quality", help="Sora2API: standard or hd")
        parser.add_argument("--watermark", help="Sora2API: text shown on the video")
        parser.add_argument("--image-url", action="append", default=[], dest="image_urls")
        parser.add_argument("--character-url")
        parser.add_argument("--character-start", type=int)
        parser.add_argument("--character-end", type=int)
        parser.add_argument("--variations", type=int, default=1, help="1 to 4 videos per prompt")
        parser.add_argument("--wait", action="store_true", help="wait until every job ends")
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
        team = membership.team if membership else personal_team_if_allowed(user)
        if team is None:
            raise CommandError(f"{user.get_username()} is in no team: an admin must invite them first.")

        form = GenerationForm(self._form_data(opts), max_jobs=MAX_JOBS)
        if not form.is_valid():
            problems = "; ".join(
                f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items()
            )
            raise CommandError(f"Cannot generate: {problems}")
        data = form.cleaned_data
        try:
            jobs = submit.create_jobs(
                team=team,
                user=user,
                simulated=providers.is_simulated(data["provider"]),
                params=form.generation_params(),
                prompts=data["prompts"],
                variations=data["variations"],
                rate_limited=False,  # a local admin tool, as SUBMIT_RATE_LIMIT says
            )
        except QuotaExceeded as refusal:
            # The same words as the form's, and a status of its own so that scripts can tell it apart.
            self.stderr.write(f"Not generated: {refusal.message}")
            sys.exit(QUOTA_EXCEEDED)
        if ProviderPause.is_paused(data["provider"]):
            self.stderr.write(
                f"{capabilities.PROVIDERS[data['provider']]} is out of credit: the jobs wait in the queue, "
                "uncharged, until an admin resumes it."
            )
        for generation in jobs:
            tasks.start(generation)
            generation.refresh_from_db()
            self._emit(generation)
        if not opts["wait"]:
            return
        if not self._wait(jobs, opts["wait_timeout"]):
            sys.exit(1)

    def _form_data(self, opts: dict[str, Any]) -> QueryDict:
        data = QueryDict(mutable=True)
        if opts["prompt_file"]:
            try:
                text = opts["prompt_file"].read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot read {opts['prompt_file']}: {exc.strerror}") from None
            data.update({"prompt": text, "batch": "1"})
        else:
            data["prompt"] = opts["prompt"]
        data.update({"model": opts["model"], "version": opts["api_version"]})
        names = (
            "provider",
            "duration",
            "size",
            "orientation",
            "aspect_ratio",
            "quality",
            "watermark",
            "character_url",
            "character_start",
            "character_end",
            "variations",
        )
        for name in names:
            if opts.get(name) is not None:
                data[name] = str(opts[name])
        data["image_urls"] = "\n".join(opts["image_urls"])
        return data

    def _wait(self, jobs: list[Generation], timeout: float) -> bool:
        """Print each job's final line as it ends; True when every one succeeded."""
        deadline = time.monotonic() + timeout
        waiting = {g.pk: g for g in jobs}
        for generation in jobs:
            if not generation.is_live:
                waiting.pop(generation.pk)
        while waiting and time.monotonic() < deadline:
            time.sleep(1)
            for generation in Generation.objects.filter(pk__in=list(waiting)):
                if not generation.is_live:
                    self._emit(generation)
                    waiting.pop(generation.pk)
        for generation in Generation.objects.filter(pk__in=list(waiting)):
            self._emit(generation)  # still live when the wait ran out
        return not waiting and all(
            state == "succeeded"
            for state in Generation.objects.filter(pk__in=[g.pk for g in jobs]).values_list(
                "state", flat=True
            )
        )

    def _emit(self, generation: Generation) -> None:
        self.stdout.write(json.dumps(describe(generation)))
        self.stdout.flush()


def describe(generation: Generation) -> dict[str, Any]:
    error = (
        f"{generation.error_code}: {presenters.explanation(generation)}" if generation.error_code else None
    )
    return {
        "id": str(generation.pk),
        "state": generation.state,
        "error": error,
        # The upstream's own words, which say what a refusal objected to; the plain `error` cannot.
        "upstream_message": (generation.failed and generation.error_message) or None,
        "refused": generation.refused,
        "video_path": generation.video.path if generation.video and _local(generation) else None,
        "sha256": generation.sha256 or None,
        "upstream_task_id": generation.upstream_task_id or None,
        "trace_id": generation.trace_id or None,
        # Credits reserved for the job; `charged` is true once it is paid for, false when given back.
        "cost": cost_of(generation),
        "charged": {"charge": True, "release": False}.get(outcome_of(generation)),
    }


def _local(generation: Generation) -> bool:
    try:
        generation.video.path  # noqa: B018 - remote storages have no local path
    except NotImplementedError:
        return False
    return True

"""Demo data: two teams with their people and a dozen finished videos each, made by the real pipeline on the
built-in simulator, in-process, so no server needs to be running. The simulator answers at once, so each
video's moments are then spread as a real run's would be (see `_realistic_timings`) and the rows are marked
`demo`: the progress estimates and the pipeline health's times leave them out."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from sorastudio.lib import capabilities
from sorastudio.pipeline import providers, submit, tasks
from sorastudio.studio.models import Comment, Favourite, Generation, ReviewLink, ReviewState
from sorastudio.teams.models import Membership, Team

PASSWORD = "demo-pass-123"  # noqa: S105 - demo accounts, printed on purpose
PEOPLE = {
    "Studio": [
        ("alice", Membership.Role.CREATOR),
        ("bob", Membership.Role.REVIEWER),
        ("dana", Membership.Role.ADMIN),
    ],
    "Agency": [("carol", Membership.Role.ADMIN)],
}
# The demo's operator (Django staff): the one who may resume a video service out of credit, which belongs to
# the whole studio rather than to a team. carol, Agency's admin, sees the pause but cannot lift it.
OPERATOR = "dana"
PROMPTS = [
    "A paper boat drifting down a rainy street gutter, macro shot",
    "A red fox trotting through fresh snow at dawn, slow tracking shot",
    "A lighthouse at night, waves crashing, the beam sweeping over the sea",
    "A cat in a tiny astronaut suit floating through a kitchen",
    "Neon-lit noodle bar in the rain, handheld camera, steam rising",
    "A hot-air balloon rising over lavender fields at sunrise",
    "A wooden toy train circling a Christmas tree, cosy warm light",
    "Time-lapse of clouds rolling over a mountain ridge",
    "A glass of iced lemonade on a sunny terrace, slow push in",
    "An origami crane unfolding itself on a desk",
    "A street painter finishing a mural, wide shot, golden hour",
    "A kite dancing above sand dunes, drone shot",
]
# The review state each new video ends in, in turn, and the reviewer's words for each decision.
# The makers take turns (alice, bob, dana in Studio), so the videos waiting for review are alice's and
# bob and dana find them under "Waiting for my review".
REVIEW_PLAN = [
    ReviewState.IN_REVIEW,
    ReviewState.APPROVED,
    ReviewState.CHANGES_REQUESTED,
    ReviewState.NEW,
    ReviewState.REJECTED,
    ReviewState.APPROVED,
]
REVIEW_COMMENTS: dict[str, tuple[str, float | None]] = {
    ReviewState.APPROVED: ("Lovely, ship it.", None),
    ReviewState.CHANGES_REQUESTED: ("The camera moves too fast here: slow it down.", 3.0),
    ReviewState.REJECTED: ("Off brief: we need daylight, not night.", 2.0),
}
SHAPES: list[dict[str, Any]] = [
    {
        "provider": "acedata",
        "model": "sora-2",
        "version": "1.0",
        "duration": 10,
        "size": "small",
        "orientation": "landscape",
    },
    {
        "provider": "acedata",
        "model": "sora-2-pro",
        "version": "1.0",
        "duration": 15,
        "size": "large",
        "orientation": "portrait",
    },
    {"provider": "acedata", "model": "sora-2", "version": "2.0", "duration": 4, "size": "1280x720"},
    {
        "provider": "sora2api",
        "model": "sora-2",
        "version": "",
        "duration": 10,
        "size": "",
        "quality": "hd",
        "orientation": "landscape",
        "watermark": "Demo",
    },
]


class Command(BaseCommand):
    help = "Create the demo teams (Studio: alice, bob, dana; Agency: carol) with a dozen videos each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--videos", type=int, default=12, help="videos to make in each team")
        parser.add_argument(
            "--base-url",
            default=settings.PUBLIC_BASE_URL,
            help="the studio's address, to print the client link whole (default: PUBLIC_BASE_URL)",
        )

    def handle(self, *args: Any, videos: int, base_url: str, **options: Any) -> None:
        if videos < 0 or videos > 100:
            raise CommandError("--videos must be between 0 and 100")
        people = self._people()
        made, client_link = 0, ""
        for team_name, members in PEOPLE.items():
            team = Team.objects.get(name=team_name)
            missing = videos - Generation.objects.filter(team=team).count()
            creators = [people[name] for name, _ in members]
            new = self._videos(team, creators, max(0, missing))
            self._reviews(team, new)
            if team_name == "Studio":
                client_link = self._client_link(team, new)
            made += len(new)
        self.stdout.write(self.style.SUCCESS(f"Demo ready: {made} new videos."))
        for team_name, members in PEOPLE.items():
            names = ", ".join(
                f"{name} ({role.label.lower()}{', operator' if name == OPERATOR else ''})"
                for name, role in members
            )
            self.stdout.write(f"  {team_name}: {names}")
        self.stdout.write(f"  Every demo login uses the password {PASSWORD}")
        if client_link:
            # Its secret is kept nowhere else: this is the one time it is shown, as on the team's page.
            address = f"{base_url.rstrip('/')}{client_link}"
            self.stdout.write(f"  A client review link, no login needed (shown only now): {address}")

    def _people(self) -> dict[str, Any]:
        user_model = get_user_model()
        people = {}
        for team_name, members in PEOPLE.items():
            team, _ = Team.objects.get_or_create(name=team_name)
            for name, role in members:
                user = user_model.objects.filter(username=name).first()
                if user is None:
                    user = user_model.objects.create_user(name, password=PASSWORD)
                Membership.objects.update_or_create(team=team, user=user, defaults={"role": role})
                if name == OPERATOR and not user.is_staff:
                    user.is_staff = True
                    user.save(update_fields=["is_staff"])
                people[name] = user
        return people

    def _reviews(self, team: Team, videos: list[Generation]) -> None:
        """Give the new videos a team's life: some waiting for review, some decided with a comment pinned
        to a moment, a reply, favourites. Decisions are made by someone other than the video's creator."""
        reviewers = [m.user for m in team.memberships.select_related("user") if m.can_review]
        for number, video in enumerate(videos):
            video.refresh_from_db()
            if not video.succeeded:
                continue
            others = [r for r in reviewers if r != video.created_by]
            plan = REVIEW_PLAN[number % len(REVIEW_PLAN)]
            if plan == ReviewState.NEW or not others:
                continue
            video.ask_for_review(video.created_by)
            if plan == ReviewState.IN_REVIEW:
                continue
            comment, at = REVIEW_COMMENTS[plan]
            note = video.decide(others[0], plan, comment=comment, at_seconds=at)
            if note is not None and plan == ReviewState.CHANGES_REQUESTED:
                Comment.objects.create(
                    generation=video,
                    author=video.created_by,
                    parent=note,
                    body="On it — trying a slower camera.",
                )
            if plan == ReviewState.APPROVED:
                Favourite.objects.get_or_create(user=video.created_by, generation=video)

    def _client_link(self, team: Team, videos: list[Generation]) -> str:
        """A link a reviewer shares with a client, who has commented on the first video and approved it:
        the guest's side of the review, to walk. Its address (path only without PUBLIC_BASE_URL)."""
        shared = [video for video in videos if video.succeeded][:2]
        sharer = next((m.user for m in team.memberships.select_related("user") if m.can_review), None)
        if not shared or sharer is None:
            return ""
        link, secret = ReviewLink.share(
            team, sharer, shared, title="Spring campaign", message="Two cuts for the spring campaign."
        )
        link.comment(
            shared[0], "Ms Lee", "Lovely light. Could the boat come in a second earlier?", at_seconds=2.0
        )
        link.decide(shared[0], "Ms Lee", "approved")
        return settings.PUBLIC_BASE_URL + reverse("studio:client_review", args=[secret])

    def _videos(self, team: Team, creators: list[Any], count: int) -> list[Generation]:
        # The simulator answers in-process and at once, and the queue runs inline: the same pipeline as a
        # real job, without a web server or a worker.
        made: list[Generation] = []
        transport = httpx.WSGITransport(app=WSGIHandler())
        previous = Conf.SYNC, providers.transport_override
        Conf.SYNC, providers.transport_override = True, transport
        # The simulator's requests are served inside this process, on this database connection: Django
        # must not close it at the end of each of them (its test client does the same).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            with override_settings(
                SIMULATOR_SECONDS=0, PUBLIC_BASE_URL="", SIMULATOR_BASE_URL="http://localhost"
            ):
                for number in range(count):
                    shape = SHAPES[number % len(SHAPES)]
                    generation = submit.create_job(
                        team=team,
                        user=creators[number % len(creators)],
                        simulated=True,
                        prompt=PROMPTS[number % len(PROMPTS)],
                        **shape,
                    )
                    tasks.start(generation)
                    made.append(generation)
                _realistic_timings(made)
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
            Conf.SYNC, providers.transport_override = previous
        return made


# The demo's videos were asked for this far apart, the last one a little before now.
DEMO_SPACING = timedelta(minutes=47)


def _realistic_timings(videos: list[Generation]) -> None:
    """Move each demo video's moments (asked for, sent, made, saved, and its timeline's events) to
    where a real run of its model and length would put them: a few seconds in the queue, about the
    service's usual time to make it (capabilities.TYPICAL_SECONDS, give or take), a few seconds to save.
    The same every time (seeded by the video's place), and the rows are marked demo."""
    end = timezone.now() - timedelta(minutes=5)
    for number, video in enumerate(videos):
        luck = random.Random(number)
        created = end - DEMO_SPACING * (len(videos) - number)
        submitted = created + timedelta(seconds=luck.uniform(1, 8))
        usual = capabilities.TYPICAL_SECONDS.get((video.model, video.duration), 120)
        made = submitted + timedelta(seconds=usual * luck.uniform(0.7, 1.4))
        finished = made + timedelta(seconds=luck.uniform(2, 8))
        video.refresh_from_db(fields=["archived_at", "finished_at"])
        moments = {"created_at": created, "submitted_at": submitted, "upstream_finished_at": made}
        if video.archived_at is not None:
            moments["archived_at"] = finished
        if video.finished_at is not None:
            moments["finished_at"] = finished
        Generation.objects.filter(pk=video.pk).update(demo=True, **moments)
        _move_events(video, created, submitted, made, finished)


def _move_events(
    video: Generation, created: datetime, submitted: datetime, made: datetime, finished: datetime
) -> None:
    at_kind = {"created": created, "submitted": submitted, "callback": made, "polled": made}
    at_kind["upstream_succeeded"] = made
    for event in video.events.all():
        event.at = at_kind.get(event.kind, finished)
        event.save(update_fields=["at"])

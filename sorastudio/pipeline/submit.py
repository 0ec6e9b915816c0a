"""Asking for videos: the jobs of one submit, made with every limit checked first, each job's price reserved
in the transaction that makes it. The queue then sends each one upstream (tasks.start)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import transaction

from sorastudio.billing import ratelimit
from sorastudio.billing.models import Budget, LedgerEntry, PriceOverride
from sorastudio.studio.models import Generation, GenerationImage
from sorastudio.teams.models import Team

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# An image a job is to be made from: the stored file's name and its content type.
Image = tuple[str, str]


def create_job(*, team: Team, user: User, simulated: bool, **params: Any) -> Generation:
    """A new job, its price reserved in the same transaction (QuotaExceeded: nothing is created)."""
    with transaction.atomic():
        generation = Generation.objects.create(team=team, created_by=user, simulated=simulated, **params)
        generation.log("created")
        LedgerEntry.reserve(generation, by=user)
    return generation


def create_jobs(
    *,
    team: Team,
    user: User,
    simulated: bool,
    params: dict[str, Any],
    prompts: list[str],
    variations: int = 1,
    uploads: list[Any] | None = None,
    kept: list[GenerationImage] | None = None,
    rate_limited: bool = True,
) -> list[Generation]:
    """Everything one submit asks for: each prompt (several for a batch) times the variations. The
    variations of a prompt share a group, the prompts of a batch share a batch; the images (kept from an
    earlier video, then the uploaded ones) are stored once and shared by every job. Past the person's rate
    (unless `rate_limited` is off, for the `generate` command) RateLimited, past a quota QuotaExceeded:
    then nothing is created."""
    batch = uuid.uuid4() if len(prompts) > 1 else None
    jobs = len(prompts) * variations
    created: list[Generation] = []
    with transaction.atomic():
        # The whole request must fit before any file is stored; each job then reserves its own price.
        # Counted and created under the same locks: the person's row, then the team's (ratelimit.hold).
        if rate_limited:
            ratelimit.hold(user, jobs)
        Budget.hold(team, user, PriceOverride.price_of(team, params) * jobs)
        images = [(str(old.file.name), old.content_type) for old in kept or []] + _store(uploads or [])
        for prompt in prompts:
            group = uuid.uuid4() if variations > 1 else None
            for number in range(1, variations + 1):
                generation = create_job(
                    team=team,
                    user=user,
                    simulated=simulated,
                    **{**params, "prompt": prompt},
                    group=group,
                    variation=number,
                    batch=batch,
                )
                _attach(generation, images)
                created.append(generation)
    return created


def rerun(original: Generation, user: User, *, simulated: bool) -> Generation:
    """The same request again, by `user`, linked to the original; its images are shared, not copied.
    RateLimited or QuotaExceeded: nothing is created."""
    with transaction.atomic():
        ratelimit.hold(user, 1)  # before create_job locks the team's row: see ratelimit.hold
        again = create_job(
            team=original.team,
            user=user,
            simulated=simulated,
            parent=original,
            character_clip=original.character_clip.name,
            character_id=original.character_id,
            **original.params(),
        )
        _attach(
            again,
            [(str(image.file.name), image.content_type) for image in original.uploads.order_by("position")],
        )
        original.log("rerun", actor=user, new=str(again.pk))
    return again


def _store(uploads: list[Any]) -> list[Image]:
    """Save each uploaded file once, where a job's images go."""
    field = GenerationImage._meta.get_field("file")
    return [
        (
            field.storage.save(
                field.generate_filename(GenerationImage(), upload.name), upload, field.max_length
            ),
            upload.content_type,
        )
        for upload in uploads
    ]


def _attach(generation: Generation, images: list[Image]) -> None:
    GenerationImage.objects.bulk_create(
        GenerationImage(generation=generation, position=position, file=name, content_type=content_type)
        for position, (name, content_type) in enumerate(images)
    )

"""The team gallery: its filters (kept in the URL), its pages (by cursor, newest first), its zip download."""

from __future__ import annotations

import base64
import io
import stat
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sorastudio.lib import capabilities, storage
from sorastudio.lib.dates import StudioDateField
from sorastudio.pipeline import providers
from sorastudio.teams.models import Membership

from . import presenters
from .models import LIVE_STATES, Generation, GenerationQuerySet, ReviewState, State

PAGE_SIZE = 24
# The form makes 1 to 4 variations per submit. A page reads this many rows beyond its own, so that it can
# take in the rest of its last submit's variations instead of splitting them across two pages.
MOST_VARIATIONS = 4
CHUNK_SIZE = 64 * 1024

STATES = {
    "ready": Q(state=State.SUCCEEDED),
    "in_progress": Q(state__in=LIVE_STATES),
    "failed": Q(state__in=(State.FAILED, State.TIMED_OUT)),
}
STATE_CHOICES = [
    ("", pgettext_lazy("state filter", "Any state")),
    ("ready", pgettext_lazy("state filter", "Ready")),
    ("in_progress", pgettext_lazy("state filter", "In progress")),
    ("failed", pgettext_lazy("state filter", "Failed")),
]


class SearchInput(forms.TextInput):
    input_type = "search"


class GalleryFilters(forms.Form):
    """What the grid shows. Bound to the query string; each valid value applies even when another is
    invalid, and an invalid one gets its message beside its field."""

    q = forms.CharField(required=False, max_length=200, label=_("Search the prompts"), widget=SearchInput)
    view = forms.ChoiceField(required=False, label=pgettext_lazy("which videos the gallery shows", "Show"))
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES, label=_("State"))
    review = forms.ChoiceField(
        required=False,
        choices=[("", pgettext_lazy("review filter", "Any review state")), *ReviewState.choices],
        label=_("Review"),
    )
    service = forms.ChoiceField(required=False, label=_("Made with"))
    author = forms.ChoiceField(
        required=False,
        choices=[
            ("", pgettext_lazy("author filter", "Everyone")),
            ("mine", pgettext_lazy("author filter", "Mine")),
        ],
        label=_("Made by"),
    )
    date_from = StudioDateField(required=False, label=_("From"))
    date_to = StudioDateField(required=False, label=_("Until"))
    favourites = forms.BooleanField(required=False, label=_("Favourites only"))

    def __init__(self, data: QueryDict, *, membership: Membership) -> None:
        super().__init__(data, auto_id="filter-%s", label_suffix="")
        self.asked = data
        self.user = membership.user
        views = [("", _("All videos"))]
        if membership.can_review:
            views.append(("waiting", _("Waiting for my review")))
        views.append(("came_back", _("Came back to me")))
        self.fields["view"].choices = views  # type: ignore[attr-defined]
        self.fields["service"].choices = [  # type: ignore[attr-defined]
            ("", pgettext_lazy("service filter", "Any service")),
            *service_choices(),
        ]
        for name, field in self.fields.items():
            # Messages can arrive later in an htmx answer, into this element, so it is always named.
            field.widget.attrs["aria-describedby"] = f"filter-{name}-errors"
        self.is_valid()

    def clean(self) -> dict[str, Any]:
        start, end = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("This date is before the “From” date."))
        return self.cleaned_data

    @property
    def fingerprint(self) -> str:
        """Everything the filters' fields show: what was asked for, the choices offered and the language.
        The gallery keeps the fields' HTML under it ({% cache %} in index.html): Django renders each select
        and each of its options through templates of their own, which cost a few milliseconds a page."""
        choices = [getattr(field, "choices", None) for field in self.fields.values()]
        return repr((sorted(self.asked.lists()), choices, get_language()))

    @property
    def values(self) -> dict[str, Any]:
        """The filters that apply: the valid ones that are set."""
        return {name: value for name, value in self.cleaned_data.items() if value}

    def apply(self, generations: GenerationQuerySet) -> GenerationQuerySet:
        chosen = self.values
        if chosen.get("view") == "waiting":
            generations = generations.waiting_for(self.user)
        elif chosen.get("view") == "came_back":
            generations = generations.came_back_to(self.user)
        if "state" in chosen:
            generations = generations.filter(STATES[chosen["state"]])
        if "review" in chosen:
            generations = generations.filter(review_state=chosen["review"])
        if "service" in chosen:
            provider, model = chosen["service"].split("/", 1)
            generations = generations.filter(provider=provider, model=model)
        if chosen.get("author") == "mine":
            generations = generations.filter(created_by=self.user)
        if "date_from" in chosen:
            generations = generations.filter(created_at__gte=_start_of(chosen["date_from"]))
        if "date_to" in chosen:
            generations = generations.filter(created_at__lt=_start_of(chosen["date_to"] + timedelta(days=1)))
        if "favourites" in chosen:
            generations = generations.filter(favourites__user=self.user)
        for word in chosen.get("q", "").split()[:10]:
            generations = generations.filter(prompt__icontains=word)
        return generations

    def query_string(self, **extra: str) -> str:
        """The applied filters (and `extra`) as a query string starting with "?", or "" when there are none:
        the address to share, and the base of the "More" link."""
        params = QueryDict(mutable=True)
        for name, value in self.values.items():
            params[name] = "1" if value is True else value.isoformat() if isinstance(value, date) else value
        params.update({name: value for name, value in extra.items() if value})
        return f"?{params.urlencode()}" if params else ""


def service_choices() -> list[tuple[str, str]]:
    """The services the studio works with now and their models, as "provider/model"."""
    usable = providers.usable()
    pairs = dict.fromkeys(
        (c.provider, c.model) for c in capabilities.CAPABILITIES.values() if c.provider in usable
    )
    return [
        (f"{provider}/{model}", f"{capabilities.PROVIDERS[provider]} · {capabilities.MODELS[model]}")
        for provider, model in pairs
    ]


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class Page:
    items: list[dict[str, Any]]
    cursor: str  # where the next page starts; "" on the last page


def page_of(generations: GenerationQuerySet, cursor: str = "") -> Page:
    """One page of the grid, newest first, starting after `cursor`. Rows are compared by (created_at, id),
    which the gallery's index holds, so a page costs the same however deep it is."""
    after = _read_cursor(cursor)
    if after:
        at, pk = after
        # The first condition alone lets the database range over the index; the second breaks ties.
        generations = generations.filter(created_at__lte=at).filter(
            Q(created_at__lt=at) | Q(created_at=at, id__lt=pk)
        )
    rows = list(generations.newest_first()[: PAGE_SIZE + MOST_VARIATIONS])
    shown = rows[:PAGE_SIZE]
    for row in rows[PAGE_SIZE:]:
        if row.group is None or row.group != shown[-1].group:
            break
        shown.append(row)
    presenters.prime_typical_seconds(shown)
    return Page(gallery_items(shown), _cursor_after(shown[-1]) if len(rows) > len(shown) else "")


def _cursor_after(generation: Generation) -> str:
    raw = f"{generation.created_at.isoformat()}|{generation.pk.hex}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    """The position a cursor names; None for none, and for one that was tampered with (the first page)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, pk = raw.split("|")
        moment = datetime.fromisoformat(at)
        if timezone.is_naive(moment):
            return None
        return moment, uuid.UUID(pk)
    except ValueError:
        return None


def gallery_items(generations: Iterable[Generation]) -> list[dict[str, Any]]:
    """The gallery's cards: a job on its own, or the variations of one submit together on one card
    (they are made at the same moment, so they sit side by side in the newest-first order)."""
    items: list[dict[str, Any]] = []
    for generation in generations:
        last = items[-1] if items else None
        if generation.group and last and last["group"] == generation.group:
            last["generations"].append(generation)
        else:
            items.append({"group": generation.group, "generations": [generation]})
    for item in items:
        item["generations"].sort(key=lambda g: g.variation)
    return items


# --- Zip download ------------------------------------------------------------------------------------------


class _Outbox(io.RawIOBase):
    """Where zipfile writes: it keeps what was written until it is taken away to be sent. It cannot seek,
    so zipfile writes each entry's sizes and checksum after its data instead of going back for them."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def zip_names(generations: Iterable[Generation]) -> list[str]:
    """Each video's download name, numbered where two would be the same."""
    names: list[str] = []
    taken: set[str] = set()
    for generation in generations:
        name = generation.download_name()
        stem, number = name.removesuffix(".mp4"), 1
        while name in taken:
            number += 1
            name = f"{stem}-{number}.mp4"
        taken.add(name)
        names.append(name)
    return names


def zip_stream(generations: list[Generation]) -> Iterator[bytes]:
    """The finished videos as one zip, made while it is sent: each video is read from storage a chunk at a
    time and each chunk goes out as soon as it is in the archive, so neither a whole video nor the archive
    is ever held in memory. Videos are already compressed, so they are stored as they are."""
    outbox = _Outbox()
    with zipfile.ZipFile(outbox, "w", compression=zipfile.ZIP_STORED) as archive:
        for generation, name in zip(generations, zip_names(generations), strict=True):
            made = timezone.localtime(generation.finished_at or generation.created_at)
            info = zipfile.ZipInfo(name, date_time=made.timetuple()[:6])
            info.external_attr = (stat.S_IFREG | 0o644) << 16  # a plain file anyone may read, once unpacked
            # Known ahead, so that zipfile can choose the entry's format (ZIP64 or not) before writing it.
            stored = str(generation.video.name)
            info.file_size = default_storage.size(stored)
            with storage.open_stored(stored) as video, archive.open(info, "w") as entry:
                while chunk := video.read(CHUNK_SIZE):
                    entry.write(chunk)
                    yield outbox.take()
            yield outbox.take()
    yield outbox.take()

"""The studio's models, by subject: a video and its life (generation), saved characters, comments and
favourites (review), notifications with their mail, and client review links (sharing).

This package re-exports every model and the names other code imports from `sorastudio.studio.models`:
Django's app registry finds an app's models by importing this module, and the rest of the studio (and
tasks already on the queue, which name `sorastudio.studio.models.email_notifications`) import from here.
The submodules import one way only: states (what they all agree on) first, then characters,
notifications and review, then generation, which uses them all, then sharing (client review links), which
uses generation; a model that points back at a video (or at a link) names it "studio.Generation" and
imports it for type checking only."""

from .characters import Character
from .generation import (
    CARD_COLUMNS,
    CARD_FLAGS,
    CARD_LINKS,
    PARAM_FIELDS,
    PURGE_BATCH,
    REVIEWING_ROLES,
    TYPICAL_KIND,
    Event,
    Generation,
    GenerationImage,
    GenerationQuerySet,
    address_of,
)
from .notifications import (
    NOTIFICATION_TEXTS,
    REVIEW_RETURNED_TEXT,
    REVIEW_RETURNED_TEXTS,
    Notification,
    NotificationQuerySet,
    email_notifications,
)
from .review import Comment, Favourite
from .sharing import (
    LINK_DAYS,
    LINK_DAYS_MOST,
    LINK_VIDEOS_MOST,
    ClientVerdict,
    LinkClosed,
    LinkFailure,
    ReviewLink,
    TooManyTries,
)
from .states import (
    DECISIONS,
    DECISIONS_NEEDING_A_REASON,
    FINAL_STATES,
    LIVE_STATES,
    ReviewError,
    ReviewState,
    State,
)

__all__ = [
    "CARD_COLUMNS",
    "CARD_FLAGS",
    "CARD_LINKS",
    "DECISIONS",
    "DECISIONS_NEEDING_A_REASON",
    "FINAL_STATES",
    "LINK_DAYS",
    "LINK_DAYS_MOST",
    "LINK_VIDEOS_MOST",
    "LIVE_STATES",
    "NOTIFICATION_TEXTS",
    "PARAM_FIELDS",
    "PURGE_BATCH",
    "REVIEWING_ROLES",
    "REVIEW_RETURNED_TEXT",
    "REVIEW_RETURNED_TEXTS",
    "TYPICAL_KIND",
    "Character",
    "ClientVerdict",
    "Comment",
    "Event",
    "Favourite",
    "Generation",
    "GenerationImage",
    "GenerationQuerySet",
    "LinkClosed",
    "LinkFailure",
    "Notification",
    "NotificationQuerySet",
    "ReviewError",
    "ReviewLink",
    "ReviewState",
    "State",
    "TooManyTries",
    "address_of",
    "email_notifications",
]

"""The words the studio's scripts show, translated on the server: base.html puts them on every page as JSON
(``<script type="application/json" id="studio-i18n">``) and studio.js, images.js and character.js read them
from there, falling back to the English they carry themselves when a key (or the whole block) is missing.

Placeholders are Python's ``%(name)s``; the scripts fill them in the same way. Keep each entry a whole
sentence (or a whole label), so that it can be translated as one.
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext


def browser_text() -> dict[str, str]:
    """Every message the scripts may show, in the active language, by key."""
    # Long: a table, one entry per message, grouped by the script that shows it.
    return {
        # studio.js: the colour theme button (its text, and what screen readers hear).
        "theme.auto": gettext("Theme: auto"),
        "theme.dark": gettext("Theme: dark"),
        "theme.light": gettext("Theme: light"),
        "themeLabel.auto": gettext("Colour theme: follows the system"),
        "themeLabel.dark": gettext("Colour theme: dark"),
        "themeLabel.light": gettext("Colour theme: light"),
        # Two sentences in a row (a space between them in English, none in Chinese).
        "twoSentences": pgettext("two sentences in a row", "%(first)s %(second)s"),
        # images.js: the reference images.
        "images.unnamed": gettext("image"),
        "images.notImage": gettext("%(name)s is not a PNG, JPEG or WebP image"),
        "images.notImageUnnamed": gettext("That file is not a PNG, JPEG or WebP image"),
        "images.tooBig": gettext("%(name)s is larger than %(most)s MB"),
        "images.unreadable": gettext("%(name)s is not an image the browser can open"),
        "images.reasonGap": pgettext("between the reasons files were refused", "; "),
        "images.refused": gettext("%(reasons)s, so it was not added. Use a PNG, JPEG or WebP image."),
        "images.tooManyV2One": gettext("Version 2.0 uses one image: remove one before generating."),
        "images.tooManyV2": gettext("Version 2.0 uses one image: remove %(extra)s before generating."),
        "images.tooMany": gettext("Use at most %(most)s images: remove %(extra)s before generating."),
        "images.moveEarlier": gettext("Move %(name)s earlier"),
        "images.moveLater": gettext("Move %(name)s later"),
        "images.remove": gettext("Remove %(name)s"),
        "images.fit.crop": gettext(
            "%(name)s is %(width)s × %(height)s; the video is %(videoWidth)s × %(videoHeight)s. "
            "It will be cropped to fill the frame at %(videoWidth)s × %(videoHeight)s."
        ),
        "images.fit.pad": gettext(
            "%(name)s is %(width)s × %(height)s; the video is %(videoWidth)s × %(videoHeight)s. "
            "It will be padded with black bars at %(videoWidth)s × %(videoHeight)s."
        ),
        "images.fit.none": gettext(
            "%(name)s is %(width)s × %(height)s; the video is %(videoWidth)s × %(videoHeight)s. "
            "It will be sent as it is."
        ),
        # character.js: the character picker.
        "clip.player": gettext("The character clip"),
        "clip.seconds": gettext("%(seconds)s s"),
        "clip.span": gettext("%(start)s s to %(end)s s"),
        "clip.cannotPlay": gettext(
            "This clip cannot be played here. Check the address, or pick an MP4, WebM or MOV file."
        ),
        "clip.loading": gettext("Loading the clip…"),
        "clip.play": gettext("Play the marked part"),
        "clip.stop": gettext("Stop playing the part"),
        "clip.tooLate": gettext("The clip lasts only %(length)s s: the part must end by %(last)s s."),
        "clip.startBeforeEnd": gettext("The start must come before the end (%(end)s s)"),
        "clip.endAfterStart": gettext("The end must come after the start (%(start)s s)"),
        "clip.wrongSpan": gettext("The part must last 1 to 3 seconds, and this would be %(span)s s"),
        "clip.setEndFirst": gettext("%(why)s: the end (%(end)s s) is too early, so set the end first."),
        "clip.moveStart": gettext("%(why)s: move the start to between %(low)s and %(high)s s."),
        "clip.clipEnds": gettext(
            "%(why)s, and the clip ends %(last)s s in: move the start to %(latest)s s or earlier."
        ),
        "clip.moveEnd": gettext("%(why)s: move the end to between %(low)s and %(high)s s."),
        "clip.begin": gettext("Play the clip, pause where the character appears and press “Set start here”."),
        "clip.started": gettext(
            "Start: %(start)s s. Now set the end 1 to 3 seconds later, between %(low)s and %(high)s s."
        ),
        "clip.ended": gettext(
            "End: %(end)s s. Now set the start 1 to 3 seconds before, between %(low)s and %(high)s s."
        ),
        "clip.marked": gettext(
            "Marked: %(start)s s to %(end)s s (%(span)s s). “Play the marked part” to check it."
        ),
        "clip.rounded": gettext(
            "The player was at %(time)s s, taken as %(taken)s s: the service takes whole seconds."
        ),
        "clip.markFirst": gettext("Mark a start and an end 1 to 3 seconds apart first."),
        # compose.js: the prompt's length beside it (in a batch, its longest line's), against the limit.
        "prompt.count": gettext("%(count)s / %(most)s characters"),
        "prompt.countLongest": gettext("Longest line: %(count)s / %(most)s characters"),
        "prompt.over": gettext("%(count)s characters: keep each prompt under %(most)s."),
        # gallery.js: the selection toolbar.
        "gallery.selected": gettext("%(count)s selected"),
        "gallery.compareRange": gettext("Compare takes 2 to 4 videos."),
        # review.js: pinning a comment to the player's moment (a time such as 0:03), and the compare page.
        "review.pinTo": gettext("Pin to %(time)s"),
        "compare.play": gettext("Play all"),
        "compare.pause": gettext("Pause all"),
        # draw.js: drawing on the paused frame for a comment.
        "draw.start": gettext("Draw on the frame"),
        "draw.stop": gettext("Stop drawing"),
        "draw.canvas": gettext("Drawing on the paused frame"),
        "draw.pinned": gettext("Pinned to %(time)s, where you drew"),
        "draw.tooMany": gettext("A drawing can have at most %(most)s shapes: undo one to draw another."),
        "draw.longStroke": gettext("That stroke is as long as one can be: lift the pen and start another."),
        "draw.tooBig": gettext(
            "The drawing is as detailed as it can be: undo a stroke, or draw shorter ones."
        ),
        # team.js: copying an invitation link, and the browser's own notifications.
        "team.copied": gettext("Copied"),
        "team.copyByHand": gettext("The link is selected: copy it with Ctrl+C (⌘C on a Mac)."),
        "team.desktopOn": gettext(
            "Desktop notifications are on: while the studio is open, new ones also appear on your desktop."
        ),
        "team.desktopBlocked": gettext(
            "Desktop notifications are blocked for this site: allow them in the browser's site settings."
        ),
        # copy.js: the Copy button in a failed video's Details.
        "copy.done": gettext("Copied"),
        "copy.failed": gettext("Could not copy: select the text instead"),
        # dates.js: the calendar button beside a date field.
        "dates.pick": gettext("Pick the date from a calendar"),
    }

"""Set, clear or show a member's (or a whole team's) spending limits, and grant extra credit."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sorastudio.billing.models import Budget, LedgerEntry, Period, Quota
from sorastudio.teams.models import Membership, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import User

OFF = "off"


def limit(value: str) -> int | str:
    """A number of credits, or "off" to clear the limit."""
    if value.lower() in (OFF, "none"):
        return OFF
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of credits (or 'off')")
    return int(value)


class Command(BaseCommand):
    help = (
        "Set a member's daily and monthly limits in credits (without USER: the whole team's), each with a "
        "warning level; 'off' clears a limit. With no limit given, shows the limits and what is left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", nargs="?", help="username (leave out, with --team, for the whole team)")
        parser.add_argument("--team", help="team name (needed when the user is in several teams)")
        parser.add_argument("--daily", type=limit, help="credits a day, or 'off'")
        parser.add_argument("--monthly", type=limit, help="credits a calendar month, or 'off'")
        parser.add_argument("--daily-soft", type=int, help="warning level a day (default: 80%% of it)")
        parser.add_argument("--monthly-soft", type=int, help="warning level a month (default: 80%% of it)")
        parser.add_argument("--grant", type=int, help="extra credits for today and this month")
        parser.add_argument("--reason", default="", help="why (required with --grant)")

    def handle(self, *args: Any, **opts: Any) -> None:
        team, user = self._who(opts["user"], opts["team"])
        for period in (Period.DAILY, Period.MONTHLY):
            value = opts[period.value]
            if value == OFF:
                Quota.clear(team, user, period)
            elif value is not None:
                try:
                    Quota.set_limit(team, user, period, int(value), opts[f"{period.value}_soft"])
                except ValueError as exc:
                    raise CommandError(str(exc)) from None
        if opts["grant"] is not None:
            try:
                LedgerEntry.grant(team, opts["grant"], reason=opts["reason"], user=user)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        self._show(team, user)

    def _who(self, username: str | None, team_name: str | None) -> tuple[Team, Any]:
        team = None
        if team_name:
            team = Team.objects.filter(name=team_name).first()
            if team is None:
                raise CommandError(f"No team named {team_name!r}.")
        if not username:
            if team is None:
                raise CommandError("Name a user, or a team with --team for a limit on the whole team.")
            return team, None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        teams = [m.team for m in Membership.objects.filter(user=user).select_related("team")]
        if team is not None:
            if team not in teams:
                raise CommandError(f"{username} is not a member of {team.name}.")
            return team, user
        if len(teams) != 1:
            names = ", ".join(sorted(t.name for t in teams)) or "none"
            raise CommandError(f"{username} is in these teams: {names}. Choose one with --team.")
        return teams[0], user

    def _show(self, team: Team, user: User) -> None:
        who = f"{user.get_username()} in {team.name}" if user else f"the whole of {team.name}"
        limits = [lim for lim in Budget.of(team, user).limits if lim.member == (user is not None)]
        if not limits:
            self.stdout.write(f"{who}: no limit set.")
            return
        for lim in sorted(limits, key=lambda lim: lim.period):
            soft = f" (warning at {lim.soft_limit})" if lim.soft_limit is not None else ""
            granted = f" + {lim.granted} granted" if lim.granted else ""
            self.stdout.write(
                f"{who}: {lim.period} limit {lim.hard_cap} credits{soft}{granted}; "
                f"{lim.used} used, {lim.remaining} left."
            )

"""Make, list and revoke personal API tokens from the server's command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sorastudio.teams.models import ApiToken, Membership, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Command(BaseCommand):
    help = (
        "create: make a token for a user and print it alone on one line (shown only this once); "
        "list: a user's tokens (never their values); revoke: stop the token whose prefix is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a token and print it")
        create.add_argument("--user", required=True, help="username")
        create.add_argument("--team", help="team name (needed when the user is in several teams)")
        create.add_argument("--name", default="command line", help="what the token is for")
        listing = actions.add_parser("list", help="a user's tokens")
        listing.add_argument("--user", required=True, help="username")
        revoke = actions.add_parser("revoke", help="revoke a token by the prefix the lists show")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "create":
            user = self._user(opts["user"])
            _token, secret = ApiToken.issue(user, self._team(user, opts["team"]), opts["name"])
            # Alone on its line, so a script can read it with $(...).
            self.stdout.write(secret)
        elif opts["action"] == "list":
            for token in ApiToken.objects.filter(user=self._user(opts["user"])).select_related("team"):
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                self.stdout.write(
                    f"{token.prefix}  {token.team.name}  {token.name}  {token.state}  used {used}"
                )
        else:
            self._revoke(opts["prefix"])

    def _user(self, username: str) -> User:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        return user

    def _team(self, user: User, team_name: str | None) -> Team:
        teams = [m.team for m in Membership.objects.filter(user=user).select_related("team")]
        if team_name:
            team = next((t for t in teams if t.name == team_name), None)
            if team is None:
                raise CommandError(f"{user.get_username()} is not a member of a team named {team_name!r}.")
            return team
        if len(teams) != 1:
            names = ", ".join(sorted(t.name for t in teams)) or "none"
            raise CommandError(f"{user.get_username()} is in these teams: {names}. Choose one with --team.")
        return teams[0]

    def _revoke(self, prefix: str) -> None:
        matches = list(ApiToken.objects.filter(prefix=prefix.rstrip("…."), revoked_at__isnull=True)[:2])
        if len(matches) != 1:
            raise CommandError(
                f"No working token starts with {prefix!r}."
                if not matches
                else "Several do: revoke it on the page."
            )
        matches[0].revoke()
        self.stdout.write(f"Revoked {matches[0].prefix} ({matches[0].name}).")

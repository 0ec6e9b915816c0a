"""Teams, their members and invitations (views.py), named in the project's one namespace, "studio"."""

from django.urls import path

from . import views

urlpatterns = [
    path("teams/switch", views.switch, name="switch_team"),
    path("team/", views.members, name="members"),
    path("team/settings", views.team_settings, name="team_settings"),
    path("team/members/<uuid:key>", views.member, name="member"),
    path("team/accounts", views.create_account, name="create_account"),
    path("team/invitations", views.invite, name="invite"),
    path("team/invitations/<uuid:pk>/revoke", views.revoke_invitation, name="revoke_invitation"),
    path("account/api-tokens", views.api_tokens, name="api_tokens"),
    path("account/api-tokens/<uuid:pk>/revoke", views.revoke_api_token, name="revoke_api_token"),
    path("join/<str:token>", views.join, name="join"),
]

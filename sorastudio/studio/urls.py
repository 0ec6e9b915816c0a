from django.urls import path

from . import billing_views, dashboard_views, health_views, review_views, team_views, views

app_name = "studio"
urlpatterns = [
    # The gallery and the form (views.py)
    path("", views.index, name="index"),
    path("gallery/more", views.gallery_more, name="gallery_more"),
    path("gallery/view", views.gallery_view, name="gallery_view"),
    path("compose/preset/<slug:slug>", views.compose_preset, name="compose_preset"),
    path("compose/options", views.compose_options, name="compose_options"),
    path("compose/cost", views.compose_cost, name="compose_cost"),
    path("generate", views.generate, name="generate"),
    path("preview", views.api_preview, name="api_preview"),
    path("history/", views.history, name="history"),
    path("history/results", views.history_results, name="history_results"),
    path("generations/<uuid:pk>/", views.generation, name="generation"),
    path("generations/<uuid:pk>/card", views.generation_card, name="generation_card"),
    path("generations/<uuid:pk>/panel", views.generation_panel, name="generation_panel"),
    path("generations/<uuid:pk>/video.mp4", views.video, name="video"),
    path("generations/<uuid:pk>/poster.jpg", views.poster, name="poster"),
    path("generations/<uuid:pk>/rerun", views.rerun, name="rerun"),
    path("generations/<uuid:pk>/images/<int:image>", views.upload_image, name="upload_image"),
    path("generations/<uuid:pk>/clip", views.generation_clip, name="generation_clip"),
    path("characters/<uuid:pk>/clip", views.saved_clip, name="saved_clip"),
    path("generations/<uuid:pk>/favourite", views.favourite, name="favourite"),
    path("generations/<uuid:pk>/delete", views.delete, name="delete"),
    path("generations/<uuid:pk>/restore", views.restore, name="restore"),
    path("generations/zip", views.download_zip, name="download_zip"),
    path("generations/delete", views.bulk_delete, name="bulk_delete"),
    path("trash/", views.trash, name="trash"),
    # Review (review_views.py)
    path("generations/<uuid:pk>/review", review_views.review, name="review"),
    path("generations/<uuid:pk>/comments", review_views.comments, name="comments"),
    path("comments/<uuid:pk>/resolve", review_views.resolve_comment, name="resolve_comment"),
    path("compare/", review_views.compare, name="compare"),
    # Teams, members, invitations and notifications (team_views.py)
    path("teams/switch", team_views.switch, name="switch_team"),
    path("team/", team_views.members, name="members"),
    path("team/settings", team_views.team_settings, name="team_settings"),
    path("team/members/<uuid:key>", team_views.member, name="member"),
    path("team/accounts", team_views.create_account, name="create_account"),
    path("team/invitations", team_views.invite, name="invite"),
    path("team/invitations/<uuid:pk>/revoke", team_views.revoke_invitation, name="revoke_invitation"),
    path("join/<str:token>", team_views.join, name="join"),
    path("notifications/", team_views.notifications, name="notifications"),
    path("notifications/bell", team_views.bell, name="bell"),
    path("notifications/list", team_views.notification_list, name="notification_list"),
    path("notifications/read", team_views.mark_all_read, name="mark_all_read"),
    path("notifications/<uuid:pk>/", team_views.open_notification, name="open_notification"),
    # Prices, limits and out-of-credit pauses (billing_views.py)
    path("costs/", billing_views.costs, name="costs"),
    path("costs/resume/<str:provider>", billing_views.resume_provider, name="resume_provider"),
    path("costs/limits", billing_views.set_limit, name="set_limit"),
    path("costs/limits/<int:pk>/clear", billing_views.clear_limit, name="clear_limit"),
    # Spend and usage (dashboard_views.py)
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/ledger.csv", dashboard_views.ledger_csv, name="ledger_csv"),
    path("dashboard/generations.csv", dashboard_views.generations_csv, name="generations_csv"),
    # Pipeline health and "Resync from provider" (health_views.py)
    path("dashboard/pipeline/", health_views.pipeline_health, name="pipeline_health"),
    path("dashboard/pipeline/numbers", health_views.pipeline_numbers, name="pipeline_numbers"),
    path("generations/<uuid:pk>/resync", health_views.resync, name="resync"),
]

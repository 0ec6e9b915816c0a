"""The studio's pages: the gallery and the form, review, notifications. Named in the project's one
namespace, "studio" (sorastudio/urls.py)."""

from django.urls import path

from . import client_views, notification_views, review_views, sharing_views, views

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
    # Client review links: the team's side (sharing_views.py), and the guest's, outside the login, where the
    # secret in the address is the permission (client_views.py; the access log masks it).
    path("links/", sharing_views.review_links, name="review_links"),
    path("links/new", sharing_views.new_review_link, name="new_review_link"),
    path("links/<uuid:pk>/revoke", sharing_views.revoke_review_link, name="revoke_review_link"),
    path("review/<slug:secret>/", client_views.client_review, name="client_review"),
    path("review/<slug:secret>/unlock", client_views.client_unlock, name="client_unlock"),
    path("review/<slug:secret>/<uuid:pk>/comment", client_views.client_comment, name="client_comment"),
    path("review/<slug:secret>/<uuid:pk>/verdict", client_views.client_verdict, name="client_verdict"),
    path("review/<slug:secret>/<uuid:pk>/video.mp4", client_views.client_video, name="client_video"),
    path("review/<slug:secret>/<uuid:pk>/poster.jpg", client_views.client_poster, name="client_poster"),
    # Notifications (notification_views.py)
    path("notifications/", notification_views.notifications, name="notifications"),
    path("notifications/bell", notification_views.bell, name="bell"),
    path("notifications/list", notification_views.notification_list, name="notification_list"),
    path("notifications/read", notification_views.mark_all_read, name="mark_all_read"),
    path("notifications/<uuid:pk>/", notification_views.open_notification, name="open_notification"),
]

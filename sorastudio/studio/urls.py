from django.urls import path

from . import views

app_name = "studio"
urlpatterns = [
    path("", views.index, name="index"),
    path("preview", views.api_preview, name="api_preview"),
    path("history/", views.history, name="history"),
    path("generations/<uuid:pk>/", views.generation, name="generation"),
    path("generations/<uuid:pk>/video.mp4", views.video, name="video"),
    path("generations/<uuid:pk>/poster.jpg", views.poster, name="poster"),
    path("generations/<uuid:pk>/rerun", views.rerun, name="rerun"),
    path("generations/<uuid:pk>/images/<int:image>", views.upload_image, name="upload_image"),
]

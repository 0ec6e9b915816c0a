from django.urls import path

from . import views

app_name = "simulator"
urlpatterns = [
    path("acedata/sora/videos", views.acedata_videos, name="acedata_videos"),
    path("acedata/sora/tasks", views.acedata_tasks, name="acedata_tasks"),
    path("acedata/files/<str:task_id>.mp4", views.video_file, name="video_file"),
]

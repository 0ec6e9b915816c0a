from django.urls import path

from . import sora2api, views

app_name = "simulator"
urlpatterns = [
    path("acedata/sora/videos", views.acedata_videos, name="acedata_videos"),
    path("acedata/sora/tasks", views.acedata_tasks, name="acedata_tasks"),
    path("acedata/files/<str:task_id>.mp4", views.video_file, name="video_file"),
    path("sora2api/files/<str:task_id>.mp4", sora2api.video_file, name="sora2api_video_file"),
]

# Sora2API under both prefixes: `sora2` is the one the vendor documents, `sora2api` the one its public
# clients use. Route names: sora2api_sora2_generate, sora2api_sora2api_record_info, and so on.
for _prefix in ("sora2", "sora2api"):
    urlpatterns += [
        path(f"sora2api/api/v1/{_prefix}/generate", sora2api.generate, name=f"sora2api_{_prefix}_generate"),
        path(
            f"sora2api/api/v1/{_prefix}/record-info",
            sora2api.record_info,
            name=f"sora2api_{_prefix}_record_info",
        ),
    ]

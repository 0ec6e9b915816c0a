"""Pipeline health and "Resync from provider", named in the project's one namespace, "studio". The
upstream's callbacks and /healthz are outside the login and the namespace (sorastudio/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    # Pipeline health and "Resync from provider" (views.py)
    path("dashboard/pipeline/", views.pipeline_health, name="pipeline_health"),
    path("dashboard/pipeline/numbers", views.pipeline_numbers, name="pipeline_numbers"),
    path("generations/<uuid:pk>/resync", views.resync, name="resync"),
]

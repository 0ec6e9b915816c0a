"""Prices, limits and pauses, and the spend dashboard, named in the project's one namespace, "studio"."""

from django.urls import path

from . import dashboard_views, views

urlpatterns = [
    # Prices, limits and out-of-credit pauses (views.py)
    path("costs/", views.costs, name="costs"),
    path("costs/resume/<str:provider>", views.resume_provider, name="resume_provider"),
    path("costs/limits", views.set_limit, name="set_limit"),
    path("costs/limits/<int:pk>/clear", views.clear_limit, name="clear_limit"),
    # Spend and usage (dashboard_views.py)
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/ledger.csv", dashboard_views.ledger_csv, name="ledger_csv"),
    path("dashboard/generations.csv", dashboard_views.generations_csv, name="generations_csv"),
]

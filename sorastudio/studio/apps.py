from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "sorastudio.studio"
    label = "studio"
    verbose_name = "Studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import tasks  # noqa: F401 - connects the pipeline's receivers

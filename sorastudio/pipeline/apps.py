from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "sorastudio.pipeline"
    label = "pipeline"
    verbose_name = "Pipeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import schedules, tasks

        # A resumed provider's waiting jobs go upstream at once; the tick's schedule is ensured after every
        # migrate, so the code that runs it (tasks.tick) names it.
        tasks.connect()
        schedules.connect()

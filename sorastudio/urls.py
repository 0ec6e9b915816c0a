from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from sorastudio.billing import urls as billing_urls
from sorastudio.pipeline import urls as pipeline_urls
from sorastudio.pipeline import views as pipeline_views
from sorastudio.studio import urls as studio_urls
from sorastudio.studio import views as studio_views
from sorastudio.teams import accounts as team_accounts
from sorastudio.teams import urls as teams_urls

# Every app's pages in one namespace, "studio": a page's name says what it is, not which app serves it.
PAGES = [
    *teams_urls.urlpatterns,
    *studio_urls.urlpatterns,
    *billing_urls.urlpatterns,
    *pipeline_urls.urlpatterns,
]

urlpatterns = [
    path("", include((PAGES, "studio"))),
    # Django's own login and password pages, with the studio's templates; the reset mail goes from the queue.
    path("accounts/password_reset/", team_accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        team_accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("callbacks/<str:provider>/<str:token>/", pipeline_views.callback, name="callback"),
    path("references/<str:token>", studio_views.reference_image, name="reference_image"),
    path("clips/<str:token>", studio_views.character_clip, name="character_clip"),
    # Choosing a language works before logging in too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
]
if settings.SIMULATOR_ENABLED:
    urlpatterns.append(path("simulator/", include("sorastudio.simulator.urls")))

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from reports.views import DashboardExportView, DashboardView


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The reports dashboard sits under /admin/ (staff only), so it comes before admin.site.urls.
    path("admin/dashboard/", admin.site.admin_view(DashboardView.as_view()), name="dashboard"),
    path(
        "admin/dashboard/export.xlsx",
        admin.site.admin_view(DashboardExportView.as_view()),
        name="dashboard-export",
    ),
    # The admin header's language switch posts to set_language.
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Last among the api/ routes: api.urls ends with a JSON catch-all for unknown api/ paths.
    path("api/", include("api.urls")),
    # 企业服务: the enterprises' own pages; and Django's set_language for its language switch.
    path("portal/", include("portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]

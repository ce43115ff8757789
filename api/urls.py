from django.conf import settings
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.routers import SimpleRouter

from api import stats, views
from api.permissions import CanReadApiDocs

router = SimpleRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")

v1 = [
    *router.urls,
    path("enterprises/me/", views.EnterpriseMeView.as_view(), name="enterprise-me"),
    path("departments/", views.DepartmentListView.as_view(), name="department-list"),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("stats/resolution/", stats.ResolutionStatsView.as_view(), name="stats-resolution"),
]


class SchemaView(views.ApiViewMixin, SpectacularAPIView):
    """YAML by default; JSON with ?format=json or Accept: application/json."""

    permission_classes = [CanReadApiDocs]
    content_negotiation_class = DefaultContentNegotiation


class DocsView(views.ApiViewMixin, SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served from this URL (?script=) rather than inline,
    so the page runs under the Content-Security-Policy without 'unsafe-inline'."""

    permission_classes = [CanReadApiDocs]
    template_name = "api/swagger_ui.html"
    refuse_empty_query_values = False  # ?script= asks for that script


app_name = "api"
urlpatterns = [path("v1/", include(v1))]
if settings.API_DOCS:
    urlpatterns += [
        path("schema/", SchemaView.as_view(), name="schema"),
        path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
    ]
if settings.API_BENCH_ENDPOINTS:
    from api import bench

    urlpatterns += [
        path("bench/baseline/", bench.baseline, name="bench-baseline"),
    ]
# Anything else under /api/ answers a JSON 404, not an HTML page. (weihai/urls.py includes
# this module after every other api/ route, so this catch-all shadows nothing.)
urlpatterns += [re_path(r"^.*$", views.not_found, name="not-found")]

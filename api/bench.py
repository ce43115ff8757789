"""The baseline endpoint of bench/api.py, routed only when settings.API_BENCH_ENDPOINTS is on:
one INSERT into a scratch table (bench/api.py creates it), nothing else — Django's own cost
on the same server, to compare the real endpoints against."""

from django.db import connection
from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE = "api_bench_baseline"


@csrf_exempt
def baseline(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (created_at, body) VALUES (now(), %s) RETURNING id",
            [request.body[:1000].decode("utf-8", "replace")],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)

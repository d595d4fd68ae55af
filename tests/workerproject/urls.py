"""Plain Django views the gateway serves in-process."""

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello world", content_type="text/plain")


def upload(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.method} {len(request.body)}", content_type="text/plain")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse((f"part {number}\n" for number in range(3)), content_type="text/plain")


@csrf_exempt
def log_in(request: HttpRequest) -> HttpResponse:
    user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
    if user is None:
        return HttpResponse("no", status=403, content_type="text/plain")
    login(request, user)
    return HttpResponse("yes", content_type="text/plain")


@csrf_exempt
def start_task(request: HttpRequest) -> HttpResponse:
    """Start a task that reports to the logged-in user's sockets."""
    from tasks import report_to

    from .celery import crunch

    if not request.user.is_authenticated:
        return HttpResponse("log in first", status=403, content_type="text/plain")
    result = crunch.apply_async((int(request.POST.get("steps", 2)),), headers=report_to(user=request.user))
    return HttpResponse(result.id, status=202, content_type="text/plain")


@csrf_exempt
def disconnect_me(request: HttpRequest) -> HttpResponse:
    """Close all the logged-in user's sockets, on every gateway."""
    from realtime.disconnect import disconnect_user

    disconnect_user(request.user)
    return HttpResponse("closed", content_type="text/plain")


def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.META['REMOTE_ADDR']} {request.scheme}", content_type="text/plain")


def cookie(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("cookie set", content_type="text/plain")
    response.set_cookie("flavour", "oatmeal", httponly=True)
    return response


urlpatterns = [
    path("login/", log_in),
    path("cookie/", cookie),
    path("whoami/", whoami),
    path("start-task/", start_task),
    path("disconnect-me/", disconnect_me),
    path("hello/", hello),
    path("upload/", upload),
    path("stream/", stream),
    # tests/test_js_client.py: loads realtime.js, with hooks for the test
    path("realtime-js/", TemplateView.as_view(template_name="workerproject/realtime_js.html")),
]

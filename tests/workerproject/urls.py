"""Plain Django views the gateway serves in-process."""

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello world", content_type="text/plain")


def upload(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.method} {len(request.body)}", content_type="text/plain")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse((f"part {number}\n" for number in range(3)), content_type="text/plain")


urlpatterns = [
    path("hello/", hello),
    path("upload/", upload),
    path("stream/", stream),
]

"""The demo's pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    """An echo box and a chat room, over WebSockets."""
    return render(request, "demo/index.html")


def hello(request: HttpRequest) -> HttpResponse:
    """A plain Django view: the gateway serves it in-process, with no broker hop."""
    return HttpResponse("Hello world", content_type="text/plain")

"""The demo's pages."""

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .models import ChatMessage

HISTORY = 50


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/index.html")


def hello(request: HttpRequest) -> HttpResponse:
    """A plain Django view: the gateway serves it in-process, with no broker hop."""
    return HttpResponse("Hello world", content_type="text/plain")


def echo(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/echo.html")


@login_required
def room(request: HttpRequest, room: str) -> HttpResponse:
    history = list(ChatMessage.objects.filter(room=room).select_related("user").order_by("-created", "-id")[:HISTORY])
    return render(request, "demo/room.html", {"room": room, "history": [m.as_json() for m in reversed(history)]})


def long_task(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/tasks.html")


def signup(request: HttpRequest) -> HttpResponse:
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect(request.GET.get("next") or "/")
    return render(request, "registration/signup.html", {"form": form})

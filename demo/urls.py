"""URLs of the demo project."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.index),
    path("hello/", views.hello),
    path("echo/", views.echo),
    path("rooms/<slug:room>/", views.room),
    path("tasks/", views.long_task),
    path("accounts/login/", auth_views.LoginView.as_view()),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="/")),
    path("accounts/signup/", views.signup),
]

"""URLs of the demo project."""

urlpatterns: list = []

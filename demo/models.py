"""The demo's data: chat messages, kept per room."""

from django.conf import settings
from django.db import models


class ChatMessage(models.Model):
    room = models.CharField(max_length=50, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    text = models.CharField(max_length=2000)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]

    def as_json(self) -> dict:
        return {"user": self.user.get_username(), "text": self.text, "at": self.created.isoformat()}

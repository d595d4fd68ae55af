"""Data binding: model changes pushed to groups, and clients' changes applied to models."""

from .base import CREATE, DELETE, UPDATE, Binding
from .websockets import WebsocketBinding

__all__ = ["CREATE", "DELETE", "UPDATE", "Binding", "WebsocketBinding"]

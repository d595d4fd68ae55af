"""A Django + Celery project whose workers the worker tests start as real processes."""

from .celery import app

__all__ = ["app"]

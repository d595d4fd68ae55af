"""The Celery side: running consumers in workers and sending to channels from tasks."""

__all__: list[str] = []

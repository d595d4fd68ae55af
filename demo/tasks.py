"""The demo's Celery tasks."""

import time

from celery import shared_task

from tasks import progress


@shared_task(name="demo.long_task")
def long_task(steps: int) -> str:
    """Pretends to work for ``steps`` steps, reporting each to the browser that started it."""
    steps = max(1, min(int(steps), 50))
    for step in range(1, steps + 1):
        time.sleep(0.2)
        progress(step, steps, {"message": f"step {step} of {steps}"})
    return f"finished {steps} steps"

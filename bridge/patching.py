"""gevent's monkey-patching: the one place the gateway's processes call it, before any I/O."""

from __future__ import annotations

__all__ = ["monkey_patch"]


def monkey_patch() -> None:
    """Make the standard library cooperative (sockets, threads, ``time.sleep``) for gevent.

    Called first by ``realtime-gateway`` and by the ``rungateway`` / ``runserver`` commands,
    before a socket or thread exists; calling it again does nothing.
    """
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()

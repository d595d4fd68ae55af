"""One message per connection in flight (pure)."""

from bridge.sequencer import Sequencer


def test_first_item_goes_at_once_the_rest_wait_for_notices() -> None:
    sequencer: Sequencer[str] = Sequencer(timeout=10)
    assert sequencer.submit("c", 0, "connect", now=0) == "connect"
    assert sequencer.submit("c", 1, "r1", now=0) is None
    assert sequencer.submit("c", 2, "r2", now=0) is None
    assert sequencer.waiting("c") == 2
    assert sequencer.processed("c", 0, now=1) == "r1"
    assert sequencer.processed("c", 1, now=2) == "r2"
    assert sequencer.processed("c", 2, now=3) is None
    assert sequencer.submit("c", 3, "r3", now=4) == "r3"  # idle again: goes at once


def test_connections_are_independent() -> None:
    sequencer: Sequencer[str] = Sequencer(timeout=10)
    assert sequencer.submit("a", 0, "a0", now=0) == "a0"
    assert sequencer.submit("b", 0, "b0", now=0) == "b0"


def test_late_or_duplicate_notices_are_ignored() -> None:
    sequencer: Sequencer[str] = Sequencer(timeout=10)
    sequencer.submit("c", 0, "m0", now=0)
    sequencer.submit("c", 1, "m1", now=0)
    assert sequencer.processed("c", 5, now=1) is None
    assert sequencer.processed("unknown", 0, now=1) is None
    assert sequencer.processed("c", 0, now=1) == "m1"
    assert sequencer.processed("c", 0, now=1) is None


def test_a_lost_notice_releases_the_next_item_after_the_timeout() -> None:
    sequencer: Sequencer[str] = Sequencer(timeout=5)
    sequencer.submit("c", 0, "m0", now=0)
    sequencer.submit("c", 1, "m1", now=0)
    assert sequencer.overdue(now=4.9) == []
    assert sequencer.overdue(now=5.0) == ["m1"]
    assert sequencer.overdue(now=9.9) == []
    assert sequencer.processed("c", 0, now=10) is None  # the late notice for m0 changes nothing


def test_forget_returns_what_was_waiting() -> None:
    sequencer: Sequencer[str] = Sequencer(timeout=5)
    sequencer.submit("c", 0, "m0", now=0)
    sequencer.submit("c", 1, "m1", now=0)
    assert sequencer.forget("c") == ["m1"]
    assert sequencer.forget("c") == []

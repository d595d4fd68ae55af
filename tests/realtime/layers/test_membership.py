"""The owner's membership table (pure)."""

from realtime.layers.membership import Memberships


def test_add_discard_and_members() -> None:
    table = Memberships()
    table.add("room", "a", deadline=10)
    table.add("room", "b", deadline=10)
    table.add("other", "a", deadline=10)
    assert sorted(table.members("room", now=0)) == ["a", "b"]
    assert table.groups_of("a") == {"room", "other"}
    assert table.discard("room", "a") and not table.discard("room", "a")
    assert table.members("room", now=0) == ["b"]
    assert len(table) == 2


def test_expired_members_are_not_delivered_to_and_are_swept() -> None:
    table = Memberships()
    table.add("room", "old", deadline=5)
    table.add("room", "new", deadline=50)
    assert table.members("room", now=10) == ["new"]
    assert table.pop_expired(now=10) == [("room", "old")]
    assert table.pop_expired(now=10) == []
    assert table.items() == [("room", "new")]


def test_renewing_extends_the_deadline() -> None:
    table = Memberships()
    table.add("room", "a", deadline=5)
    table.add("room", "a", deadline=50)
    assert table.members("room", now=10) == ["a"]


def test_remove_channel_forgets_all_its_groups() -> None:
    table = Memberships()
    table.add("x", "a", deadline=9)
    table.add("y", "a", deadline=9)
    assert table.remove_channel("a") == ["x", "y"]
    assert len(table) == 0 and table.groups_of("a") == set()

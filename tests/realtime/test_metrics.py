"""The Prometheus text rendering."""

from realtime.metrics import Registry


def test_counters_and_gauges_render_in_the_text_format() -> None:
    registry = Registry()
    registry.counter("demo_messages_total", "Messages, by direction.")
    registry.counter("demo_idle_total", "Never incremented.")
    registry.gauge("demo_open", "Open sockets.", lambda: [({}, 3)])
    registry.inc("demo_messages_total", direction="in")
    registry.inc("demo_messages_total", 2, direction="out")
    registry.inc("demo_messages_total", direction='we"ird\n')
    assert registry.value("demo_messages_total", direction="out") == 2
    assert registry.render() == (
        "# HELP demo_idle_total Never incremented.\n"
        "# TYPE demo_idle_total counter\n"
        "demo_idle_total 0\n"
        "# HELP demo_messages_total Messages, by direction.\n"
        "# TYPE demo_messages_total counter\n"
        'demo_messages_total{direction="in"} 1\n'
        'demo_messages_total{direction="out"} 2\n'
        'demo_messages_total{direction="we\\"ird\\n"} 1\n'
        "# HELP demo_open Open sockets.\n"
        "# TYPE demo_open gauge\n"
        "demo_open 3\n"
    )

"""Admission rules without a server: resource conflicts, slots, first come first served."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from interlock.admission import blocker, queued_ahead, resources_overlap, to_start


@dataclass(frozen=True, eq=False)
class Task:
    name: str
    resources: frozenset[str]

    def __repr__(self) -> str:
        return f"{self.name}{set(self.resources) or '{}'}"


def task(name: str, *resources: str) -> Task:
    return Task(name, frozenset(resources))


def needs(*resources: str) -> frozenset[str]:
    return frozenset(resources)


# ------------------------------------------------------------------- resources_overlap


def test_tasks_sharing_a_resource_overlap() -> None:
    assert resources_overlap(needs("axis:x", "camera"), needs("camera"))


def test_disjoint_resources_do_not_overlap() -> None:
    assert not resources_overlap(needs("axis:x"), needs("axis:y", "camera"))
    assert not resources_overlap(needs(), needs("axis:x"))
    assert not resources_overlap(needs(), needs())


def test_a_resource_covers_its_parts_at_every_depth() -> None:
    assert resources_overlap(needs("axis"), needs("axis:x"))
    assert resources_overlap(needs("axis:x"), needs("axis"))
    assert resources_overlap(needs("bench"), needs("bench:stage:z"))
    assert resources_overlap(needs("bench:stage"), needs("bench:stage:z"))
    assert not resources_overlap(needs("bench:stage:z"), needs("bench:stage:y"))


def test_a_name_prefix_is_not_a_parent() -> None:
    assert not resources_overlap(needs("axis"), needs("axis2"))
    assert not resources_overlap(needs("axis:x"), needs("axis:xy"))


names = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map(":".join)
resource_sets = st.frozensets(names, max_size=3)


@given(resource_sets, resource_sets)
def test_overlap_is_symmetric(a: frozenset[str], b: frozenset[str]) -> None:
    assert resources_overlap(a, b) == resources_overlap(b, a)


@given(resource_sets)
def test_a_task_needing_something_overlaps_itself(a: frozenset[str]) -> None:
    assert resources_overlap(a, a) == bool(a)


# -------------------------------------------------------------------------- blocker


def test_with_nothing_running_a_task_starts() -> None:
    assert blocker(needs("axis:x"), [], max_concurrent=1) is None


def test_a_running_task_holding_what_is_needed_blocks() -> None:
    free, holder = task("free", "camera"), task("holder", "axis")
    assert blocker(needs("axis:x"), [free, holder], max_concurrent=4) is holder


def test_a_conflict_is_named_before_a_full_house() -> None:
    first, holder = task("first"), task("holder", "axis:x")
    assert blocker(needs("axis:x"), [first, holder], max_concurrent=2) is holder


def test_when_every_slot_is_taken_the_oldest_running_task_blocks() -> None:
    first, second = task("first", "axis:y"), task("second")
    assert blocker(needs("axis:x"), [first, second], max_concurrent=2) is first
    assert blocker(needs("axis:x"), [first, second], max_concurrent=3) is None


def test_tasks_needing_nothing_only_compete_for_slots() -> None:
    running = [task("a"), task("b")]
    assert blocker(needs(), running, max_concurrent=3) is None
    assert blocker(needs(), running, max_concurrent=2) is running[0]


class Counted:
    """10,000 running tasks that count how many of them admission looks at."""

    def __init__(self) -> None:
        self.tasks = [task(f"t{i}") for i in range(10_000)]
        self.seen = 0

    def __len__(self) -> int:
        return len(self.tasks)

    def __contains__(self, item: object) -> bool:
        return item in self.tasks

    def __iter__(self) -> Iterator[Task]:
        for t in self.tasks:
            self.seen += 1
            yield t


def test_admitting_a_task_needing_nothing_does_not_look_at_every_running_task() -> None:
    # Creating a task must not slow down as sessions pile up (bench/scale.py).
    running = Counted()
    assert blocker(needs(), running, max_concurrent=20_000) is None
    assert blocker(needs(), running, max_concurrent=10_000) is running.tasks[0]
    assert running.seen <= 1


# --------------------------------------------------------------------- queued_ahead


def test_a_new_task_queues_behind_the_first_waiting_task_needing_the_same() -> None:
    other, big, small = task("other", "camera"), task("big", "axis"), task("small", "axis:x")
    assert queued_ahead(needs("axis:x"), [other, big, small]) is big


def test_a_new_task_needing_nothing_that_waits_is_not_held_back() -> None:
    assert queued_ahead(needs("axis:z"), [task("big", "axis:x", "axis:y")]) is None
    assert queued_ahead(needs("axis:z"), []) is None


# ------------------------------------------------------------------------- to_start


def test_an_empty_queue_starts_nothing() -> None:
    assert to_start([], [task("running", "axis:x")], max_concurrent=4) == []


def test_queued_tasks_start_in_order_while_slots_last() -> None:
    a, b, c = task("a"), task("b"), task("c")
    assert to_start([a, b, c], [task("running")], max_concurrent=3) == [a, b]


def test_a_started_task_holds_its_resources_against_the_next_in_line() -> None:
    first, second = task("first", "axis:x"), task("second", "axis:x")
    assert to_start([first, second], [], max_concurrent=4) == [first]


def test_a_waiting_task_is_not_overtaken_by_one_needing_the_same() -> None:
    # big waits for y; small could start at once, but x is promised to big.
    big, small = task("big", "axis:x", "axis:y"), task("small", "axis:x")
    assert to_start([big, small], [task("holder", "axis:y")], max_concurrent=4) == []


def test_a_task_needing_nothing_a_waiting_one_needs_may_pass_it() -> None:
    big, other = task("big", "axis:x", "axis:y"), task("other", "camera")
    assert to_start([big, other], [task("holder", "axis:y")], max_concurrent=4) == [other]


def test_the_parent_resource_reserves_its_parts() -> None:
    everything, one_axis = task("everything", "axis"), task("one", "axis:z")
    held = [task("holder", "axis:x")]
    assert to_start([everything, one_axis], held, max_concurrent=4) == []


tasks = st.builds(Task, st.sampled_from("ABCDEFGH"), resource_sets)


@given(
    queue=st.lists(tasks, max_size=6),
    running=st.lists(tasks, max_size=3),
    slots=st.integers(min_value=1, max_value=5),
)
def test_what_starts_never_collides_and_never_overtakes(
    queue: list[Task], running: list[Task], slots: int
) -> None:
    started = to_start(queue, running, slots)
    assert started == [t for t in queue if t in started], "queue order is kept"
    assert not started or len(running) + len(started) <= slots, "slots are respected"
    for i, a in enumerate(started):
        for b in [*running, *started[:i]]:
            assert not resources_overlap(a.resources, b.resources), (a, b)
    for i, a in enumerate(queue):
        if a in started:
            waiting_before = [b for b in queue[:i] if b not in started]
            assert not any(resources_overlap(a.resources, b.resources) for b in waiting_before)


@given(queue=st.lists(tasks, min_size=1, max_size=6), slots=st.integers(1, 5))
def test_with_nothing_running_the_head_of_the_queue_starts(queue: list[Task], slots: int) -> None:
    assert to_start(queue, [], slots)[:1] == queue[:1]

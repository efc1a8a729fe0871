"""core/background.py: the caller of `wake()` never waits for the work, wakes that arrive
during a run become one more run, a failing run does not end the thread, and each process gets
its own thread."""

import os
import signal
import threading

import pytest

from core.background import Coalescing, PerProcess


class Gate:
    """A run that counts itself and, while `hold` is set, waits to be let go."""

    def __init__(self) -> None:
        self.runs = 0
        self.hold = threading.Event()
        self.running = threading.Event()
        self.release = threading.Event()
        self.fail_next = False

    def __call__(self) -> None:
        self.runs += 1
        self.running.set()
        if self.hold.is_set():
            assert self.release.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the run failed")


@pytest.fixture
def gate():
    gate = Gate()
    thread = Coalescing(gate, name="test-coalescing")
    yield gate, thread
    gate.release.set()
    thread.stop()


def test_a_wake_returns_while_the_run_it_asked_for_is_still_going(gate):
    gate, thread = gate
    gate.hold.set()
    thread.wake()
    assert gate.running.wait(5)
    assert not thread.flush(timeout=0.05)  # the run is held, and wake() came back anyway
    gate.release.set()
    assert thread.flush(timeout=5)
    assert gate.runs == 1


def test_wakes_during_a_run_become_one_more_run(gate):
    gate, thread = gate
    gate.hold.set()
    thread.wake()
    assert gate.running.wait(5)
    for _ in range(20):
        thread.wake()
    gate.release.set()
    assert thread.flush(timeout=5)
    assert gate.runs == 2


def test_a_failing_run_is_logged_and_the_next_wake_runs_again(gate, caplog):
    gate, thread = gate
    gate.fail_next = True
    thread.wake()
    assert thread.flush(timeout=5)
    assert "test-coalescing: a run failed" in caplog.text
    thread.wake()
    assert thread.flush(timeout=5)
    assert gate.runs == 2 and thread.thread.is_alive()


def test_a_stopped_thread_ends_and_a_flush_does_not_wait_for_it(gate):
    gate, thread = gate
    thread.stop()
    assert not thread.thread.is_alive()
    thread.wake()
    assert thread.flush(timeout=5)
    assert gate.runs == 0


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_makes_its_own_thread():
    made = []
    per_process = PerProcess(lambda: made.append(Coalescing(lambda: None, name="test-per-process")) or made[-1])
    first = per_process.get()
    assert per_process.get() is first
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread did not come across the fork
        try:
            child = per_process.get()
            ok = child is not first and child.thread.is_alive()
            child.wake()
            ok = ok and child.flush(timeout=5)
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)  # never back into pytest
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    per_process.stop()
    assert not first.thread.is_alive()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_child_forked_while_its_parent_held_the_lock_still_makes_its_own_thread():
    per_process = PerProcess(lambda: Coalescing(lambda: None, name="test-fork-lock"))
    read, write = os.pipe()
    per_process.lock.acquire()  # as if another thread of the parent were inside get() at the fork
    try:
        pid = os.fork()
        if pid == 0:
            try:
                signal.alarm(5)  # a child stuck on the copied lock is ended, and reports nothing
                ok = per_process.get().thread.is_alive() and per_process.flush(timeout=5)
                os.write(write, b"1" if ok else b"0")
            finally:
                os._exit(0)  # never back into pytest
    finally:
        per_process.lock.release()
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    assert per_process.flush(timeout=1)  # this process made none: nothing to wait for


def test_a_thread_that_ended_is_made_again_on_the_next_use():
    per_process = PerProcess(lambda: Coalescing(lambda: None, name="test-remade"))
    first = per_process.get()
    first.stop()
    again = per_process.get()
    assert again is not first and again.thread.is_alive()
    per_process.stop()

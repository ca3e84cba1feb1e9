"""Small helpers shared by the tests in tests/autodiff."""

from __future__ import annotations

import threading

import autodiff as ad


def with_another_thread_inside(transform, x, meanwhile):
    """transform(f)(x), where f is ad.sin but waits, once inside the transform, while another
    thread runs meanwhile(); returns (transform(f), its result at x, meanwhile's result)."""
    inside, done = threading.Event(), threading.Event()
    results = {}

    def slow(x):
        inside.set()
        done.wait(5)
        return ad.sin(x)

    def other():
        inside.wait(5)
        results["meanwhile"] = meanwhile()
        done.set()

    t = threading.Thread(target=other)
    t.start()
    transformed = transform(slow)
    out = transformed(x)
    t.join()
    return transformed, out, results["meanwhile"]

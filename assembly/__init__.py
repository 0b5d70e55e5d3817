"""Assembling a worker: which workflows and activities one worker runs, with their
dependencies (`workers.build_worker`). Above every feature it assembles, below the entry
points (`worker.py`) and the tests and benchmarks that start workers of their own.
"""

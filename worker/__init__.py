"""Celery tasks and the PyTorch core. The only package that imports torch (and only in core/, models and tasks)."""
import os

# OpenMP's default spin-waiting made the CPU engines 3-5x slower on a busy box (measured by bench/
# fast_vs_onnxruntime.py). It must be set before torch loads, and every entry point (CLI, Celery worker, tests)
# imports this package first. An explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

"""Celery tasks and the PyTorch core. The only package that imports torch (and only in core/, models and tasks)."""

"""Pure PyTorch: no file I/O, no Celery, never exits. Raises ValueError naming the allowed values."""

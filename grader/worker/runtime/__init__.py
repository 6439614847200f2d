"""Code that runs inside the worker process, next to the student's code.

The judge copies this package into the sandbox and starts it with
``python -I``; nothing here decides a score.
"""

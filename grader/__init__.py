"""Autograder for Assignment 3: discover -> run in worker -> judge -> report."""

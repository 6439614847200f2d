"""Turning outcomes into the Gradescope results JSON and the console tables."""

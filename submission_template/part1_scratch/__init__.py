"""Part 1: a convolutional network from scratch in NumPy."""

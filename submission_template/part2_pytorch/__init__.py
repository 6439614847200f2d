"""Part 2: the same ideas with PyTorch."""

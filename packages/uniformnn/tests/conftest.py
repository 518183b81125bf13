"""Test settings: one torch thread.

The CI machine has two cores shared with other jobs; with two OpenMP threads the many
small tensor operations of branch and bound spend most of their time waiting for each
other (measured 30x slower under load), so the tests use one thread.
"""

import torch

torch.set_num_threads(1)

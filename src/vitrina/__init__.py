"""Vitrina — the analytics platform of the marketplace «Покупай выгодно»."""

import os

__version__ = "0.1.0"

# No transparent huge pages for the two allocators of large buffers, unless the operator
# chose: pyarrow's mimalloc (reads MIMALLOC_ALLOW_THP when pyarrow loads) and numpy (reads
# NUMPY_MADVISE_HUGEPAGE when imported; analytics/model.py applies it if numpy came first).
# Both advise the kernel to back their large allocations with huge pages; where it
# defragments for such a fault (THP defrag `madvise`, Debian's default) or the hypervisor
# backs one slowly, the first touch of 400 MB took 0.06-5.9 s instead of ~0.2 s, at random,
# on this project's CI machine (docs/operations.md has the measurements).
os.environ.setdefault("MIMALLOC_ALLOW_THP", "0")
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

"""The pure core: business logic as plain functions over plain data.

Nothing here imports the rest of the package, opens a socket or a file: callers pass bytes,
dicts, seeds and clocks in, and get plain data back.
"""

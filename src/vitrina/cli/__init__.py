"""The one `vitrina` CLI: one module per command group, heavy imports inside commands."""

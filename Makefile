# The README's two commands: `make up` and `make test`.
.PHONY: up demo test lint bench

up:
	@scripts/bootstrap.sh
	.venv/bin/vitrina up

demo:
	@scripts/bootstrap.sh
	.venv/bin/vitrina demo

test:
	@scripts/install-system-deps.sh
	@VITRINA_EXTRAS=dev,spark scripts/bootstrap.sh
	.venv/bin/python -m pytest -q tests

lint:
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/mypy src

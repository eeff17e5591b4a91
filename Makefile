# The README's two commands: `make up` and `make test` (scripts/up.sh, scripts/test.sh without make).
.PHONY: up demo test lint

up:
	@scripts/up.sh

demo:
	@scripts/bootstrap.sh
	.venv/bin/vitrina demo

test:
	@scripts/test.sh

lint:
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/mypy src

# Thin wrapper over dev.py (which needs only Python): `make help` lists the tasks.
.PHONY: help setup test demo lock bench-sample
help:           ## list the tasks
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
setup:          ## create .venv and install the locked dependencies
	python3 dev.py setup
test:           ## lint, layering contracts and the test suite
	python3 dev.py test
demo:           ## sample data -> pipeline -> dashboard
	python3 dev.py demo
lock:           ## re-resolve requirements.lock.txt
	python3 dev.py lock
bench-sample:   ## sample generator at 50,000 customers x 3 years
	.venv/bin/python benchmarks/sample.py --customers 50000 --years 3

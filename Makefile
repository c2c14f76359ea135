# keras-suite: `make demo` runs the main job, `make test` runs the tests. Both install first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNS ?= runs

.PHONY: install demo test bench clean

# uv installs in parallel (TensorFlow's 1.3 GB unpacked and byte-compiled: ~30 s against ~80 with pip)
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode

$(BIN)/keras-suite: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv
	$(UV) -e .
	touch $@

# the test tools on top (install time the demo does not need)
$(VENV)/.test-tools: $(BIN)/keras-suite
	$(UV) -e ".[test]"
	touch $@

install: $(BIN)/keras-suite

demo: install
	bash scripts/demo.sh $(BIN) $(RUNS)

test: $(VENV)/.test-tools
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: install
	$(BIN)/python bench/segmentation.py

clean:
	rm -rf $(VENV) runs saved_models/*/ *.egg-info

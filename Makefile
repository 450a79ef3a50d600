# vscolorize: `make demo` runs the main job, `make test` the checks. Both set everything up first.
VENV := .venv
BIN := $(VENV)/bin
SOURCES := pyproject.toml $(shell find plugin core ui -name '*.py' -o -name '*.json' -o -name 'py.typed' -o -name '*.safetensors' 2>/dev/null)
CODE := plugin core ui tests tools benchmarks examples

.PHONY: demo test lint install clean

demo: $(VENV)/.installed
	$(BIN)/vscolorize demo

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy -p vscolorize

install: $(VENV)/.installed

# Dependencies (torch, VapourSynth, OpenCV, ...) only when pyproject.toml changes.
$(VENV)/.deps: pyproject.toml
	@test -x $(BIN)/python || { py=$$(sh tools/find_python.sh) && "$$py" -m venv $(VENV); }
	$(BIN)/python -m pip install -qq --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -qq ".[dev]"
	$(BIN)/python -m vapoursynth config
	touch $@

# The package itself (not editable: the package-dir mapping needs a real install for mypy). setuptools
# copies build/lib into the wheel as it finds it, so a module removed from the tree would live on
# there: the build starts from nothing, and the old install goes first.
$(VENV)/.installed: $(VENV)/.deps $(SOURCES)
	rm -rf build
	$(BIN)/python -m pip uninstall -qq -y vscolorize
	$(BIN)/python -m pip install -qq --no-deps --no-build-isolation .
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis

# Two commands set up a fresh machine: `make demo` and `make test`. Both run `make setup` first, which is
# idempotent: it installs only what is missing.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_PKGS := chromium chromium-driver xvfb xdotool xterm fonts-dejavu-core python3-tk

.PHONY: setup demo test bench clean-runs

setup: $(STAMP) apt

apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing apt packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing system packages. Run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# torch is pinned and installed first: an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip >/dev/null
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,ray,desktop,train,ui]'
	@touch $(STAMP)

demo: setup
	$(BIN)/python demos/demo.py

# The layer contracts first (pyproject.toml [tool.importlinter]): a wrong import arrow fails in a second.
test: setup
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -x

bench: setup
	$(BIN)/screenwise bench miniwob --policy teacher --tasks teachers --seeds 20 --seed-offset 1000 --workers 4 --out runs/bench-teacher

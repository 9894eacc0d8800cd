# The two newcomer commands: `make demo` and `make test`. Both create .venv when needed.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test serve bench eval eval-precision clean reliability

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	# torch first and pinned: the local CPU wheel; unpinned torch drags in CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/briefbot ingest data/articles
	$(VENV)/bin/briefbot ask "What happened with Geneva?"
	# A story across dated briefs (the undated sample cannot be placed on a timeline): the brief, then the timeline.
	$(VENV)/bin/briefbot ask "What happened with the U.S.-China rare earth talks?"

test: $(STAMP)
	$(VENV)/bin/pytest -q -rs

serve: $(STAMP)
	$(VENV)/bin/briefbot serve

# The full reliability suite (issue 6): 10,000 fuzzed updates, 20+20 kill -9 trials, a 60 s load run (~16 min on 2 shared cores).
# `make test` runs the same tests at quick scale. Figures: tests/reliability/figures.json and RESULTS.md.
reliability: $(STAMP)
	BRIEFBOT_RELIABILITY=full BRIEFBOT_RELIABILITY_REPORT=tests/reliability/figures.json \
		$(VENV)/bin/pytest -q -m reliability tests/reliability

eval: $(STAMP)
	$(VENV)/bin/briefbot eval --compare tests/data/sample_questions.jsonl

# fp32 vs bf16 ingest, `briefbot eval --compare` side by side (issue 5: Recall@10 loss <= 0.01; ~6 min).
eval-precision: $(STAMP)
	$(PY) bench/precision_eval.py

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf data/index data/state $(VENV)

# make run  : fresh machine -> .venv with modelmeter[torch,dev], then the bundled examples analysed
# make test : fresh machine -> .venv, then lint, then the whole test suite
# make lint : ruff check, ruff format --check, mypy (0 errors on src/)
# make docs : regenerate the outputs pasted into README.md and docs/ (and docs/report-resnet50.png)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch/torchvision pinned to the builds this machine's pip serves from its local wheel cache
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
EXAMPLES := examples/seed_models.py

.PHONY: install run test lint docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e '.[torch,dev]'
	touch $@

install: $(VENV)/.installed

run: install
	@for m in LeNet5 AlexNetNoBias BatchNormCNN MnistCNN Dense215 Conv3to16; do \
		$(VENV)/bin/modelmeter summary $(EXAMPLES):$$m || exit 1; echo; done
	$(VENV)/bin/modelmeter summary torchvision:resnet50 --depth 1
	$(VENV)/bin/modelmeter summary hf:examples/hf/gpt2 --seq-len 1024 --by op
	$(VENV)/bin/modelmeter summary torchvision:resnet50 --depth 0 --train --precision bf16-mixed --gpus 8
	$(VENV)/bin/modelmeter explain examples/specs/lenet5.yaml
	$(VENV)/bin/modelmeter explain examples/keras/conv_3_to_16.keras
	$(VENV)/bin/modelmeter summary examples/specs/resnet18.yaml --depth 1
	$(VENV)/bin/modelmeter summary examples/onnx/lenet5.onnx --dim batch=1
	$(VENV)/bin/modelmeter summary timm:convnext_tiny --depth 1
	$(VENV)/bin/modelmeter summary torchvision:resnet18 --depth 0 --hardware a100-80gb
	$(VENV)/bin/modelmeter summary hf:examples/hf/deepseek-v3 --depth 0 --memory --seq-len 4096

test: install lint
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check src tests examples tools
	$(VENV)/bin/ruff format --check src tests examples tools
	$(VENV)/bin/mypy src

docs: install
	$(PY) tools/make_docs.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info

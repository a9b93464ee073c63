# Every user-facing command. `make` alone lists them. Settings come from the environment, the command
# line (`make deploy PROJECT_ID=…`) or .env (see .env.example); the first two win.
.DEFAULT_GOAL := help
SHELL := /usr/bin/env bash

# Every recipe runs with .env loaded (scripts/dotenv.sh), so make, the scripts and compose see one set.
ENV := scripts/dotenv.sh
# The targets that run Node put a supported one first on PATH (node, npm, tsx alike): the `node` on
# PATH when package.json's engines admits it, else Node 22 from npm in .tools/ (one line says so).
# Worked out once per make run, and only by a target that needs it (WITH_NODE=26 picks another line).
NODE_DIR = $(eval NODE_DIR := $$(shell scripts/with-node.sh --dir))$(NODE_DIR)
NODE_ENV = PATH="$(NODE_DIR):$$PATH" $(ENV)

.PHONY: help up test build typecheck compose-up compose-down deploy iam status proxy clean smoke eval bench

help: ## List the commands
	@if [ -t 1 ] && [ -z "$${NO_COLOR:-}" ]; then on=$$'\033[36m' off=$$'\033[0m'; else on="" off=""; fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %s%-14s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

node_modules/.package-lock.json: package-lock.json
	@PATH="$(NODE_DIR):$$PATH" npm ci --no-audit --no-fund

build: node_modules/.package-lock.json ## Bundle both services into dist/<service>.mjs
	@$(NODE_ENV) npm run build

typecheck: node_modules/.package-lock.json ## Type-check both services and their tests
	@$(NODE_ENV) npm run typecheck

test: node_modules/.package-lock.json ## Run every test suite; a missing optional tool is skipped with its install command (CI=true: required)
	@$(NODE_ENV) scripts/test.sh

up: node_modules/.package-lock.json ## Build and run both services locally (agent :8080, mcp-server :8081); Ctrl-C stops both
	@$(NODE_ENV) scripts/up.sh

smoke: ## Check a running agent end to end (AGENT_URL, default http://127.0.0.1:8080; https: sends gcloud's ID token)
	@$(ENV) scripts/smoke.sh

eval: node_modules/.package-lock.json ## Score the agent on eval/*.evalset.json (ADK format; AGENT_URL, EVALSET, EVAL_CONFIG, EVAL_REPORT; MODELS=a,b side by side)
	@$(NODE_ENV) scripts/eval.sh

compose-up: ## Build both images and run them with docker compose (ports on 127.0.0.1)
	@$(ENV) scripts/compose.sh up

compose-down: ## Stop the docker compose services
	@$(ENV) scripts/compose.sh down

deploy: ## Deploy both services to Cloud Run (PROJECT_ID, REGION; AGENT_ACCESS, MCP_ACCESS, SESSION_STORE, TRACING; DRY_RUN=1 prints the commands)
	@$(ENV) scripts/deploy.sh

iam: ## Grant the agent's service account run.invoker on mcp-server and aiplatform.user (GEMINI_ENTERPRISE=1: run.invoker on the agent for Gemini Enterprise)
	@$(ENV) scripts/iam.sh

status: ## Show what is deployed: URLs, accounts, who may call the agent and mcp-server, session store, IAM bindings
	@$(ENV) scripts/status.sh

proxy: ## Reach the private mcp-server from this machine through `gcloud run services proxy`
	@$(ENV) scripts/proxy.sh

clean: ## Delete what deploy/iam made (YES=1 skips the prompt; the Firestore database only with DELETE_FIRESTORE=1)
	@$(ENV) scripts/clean.sh

bench: node_modules/.package-lock.json ## Benchmarks against baselines and the ADK peer (QUICK=1 for a short run)
	@$(NODE_ENV) scripts/bench.sh

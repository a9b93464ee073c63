# Every user-facing command. `make` alone lists them.
.DEFAULT_GOAL := help
SHELL := /usr/bin/env bash

export AGENT_URL ?= http://127.0.0.1:8080

.PHONY: help up test build typecheck compose-up compose-down deploy iam status proxy clean smoke bench

help: ## List the commands
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

node_modules/.package-lock.json: package-lock.json
	npm ci

build: node_modules/.package-lock.json ## Bundle both services into dist/<service>.mjs
	npm run build

typecheck: node_modules/.package-lock.json ## Type-check both services and their tests
	npm run typecheck

test: node_modules/.package-lock.json ## Run every test suite (containers too when a Docker engine runs)
	scripts/test.sh

up: node_modules/.package-lock.json ## Build and run both services locally (agent :8080, mcp-server :8081); Ctrl-C stops both
	scripts/up.sh

smoke: ## Check a running agent end to end (AGENT_URL, default http://127.0.0.1:8080)
	scripts/smoke.sh

compose-up: ## Build both images and run them with docker compose
	scripts/compose.sh up

compose-down: ## Stop the docker compose services
	scripts/compose.sh down

deploy: ## Deploy both services to Cloud Run (PROJECT_ID, REGION; AGENT_ACCESS, SESSION_STORE, TRACING; DRY_RUN=1 prints the commands)
	scripts/deploy.sh

iam: ## Grant the agent's service account run.invoker on mcp-server and aiplatform.user
	scripts/iam.sh

status: ## Show what is deployed: URLs, accounts, who may call the agent, session store, IAM bindings
	scripts/status.sh

proxy: ## Reach the private mcp-server from this machine through `gcloud run services proxy`
	scripts/proxy.sh

clean: ## Delete what deploy/iam made (YES=1 skips the prompt; the Firestore database only with DELETE_FIRESTORE=1)
	scripts/clean.sh

bench: node_modules/.package-lock.json ## Benchmarks against baselines and the ADK peer (QUICK=1 for a short run)
	scripts/bench.sh

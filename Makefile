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

# Prism (Stoplight's mock server) for the adapter contract tests; the main Makefile includes
# this file.
#
#   make prism   a project-local @stoplight/prism-cli under .tools/prism (from npm), idempotent
#
# tests/contract/test_adapters_against_prism.py starts $(PRISM) (or $PRISM when set) once per
# provider description and checks every adapter request against it. 5.14.2 is the newest
# release whose engines include the Node 20 these machines have: 5.15.x and 5.16.0 require
# Node >= 24.14. --ignore-scripts: Prism needs no install script; the only one in its tree
# (@scarf/scarf) reports installs to a third party.

PRISM_VERSION ?= 5.14.2
PRISM_DIR ?= .tools/prism
PRISM := $(PRISM_DIR)/node_modules/.bin/prism
PRISM_STAMP := $(PRISM_DIR)/.installed-$(PRISM_VERSION)

.PHONY: prism

prism: $(PRISM_STAMP)

# A version change starts from an empty tree (no packages left over from the old one).
$(PRISM_STAMP):
	rm -rf $(PRISM_DIR) && mkdir -p $(PRISM_DIR)
	npm install --no-save --no-audit --no-fund --ignore-scripts --prefix $(PRISM_DIR) \
	  @stoplight/prism-cli@$(PRISM_VERSION)
	test "$$($(PRISM) --version)" = "$(PRISM_VERSION)"
	touch $@

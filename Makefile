# Entry points of the project; the logic lives in tools/harness.py.
# ODOO_PATH (default /opt/odoo/19.0) must hold an Odoo 19.0 source tree.
PYTHON ?= python3
HARNESS := $(PYTHON) tools/harness.py

.PHONY: run test lint update i18n stop env

run:        ## serve Odoo with crm, the addon and demo data on 127.0.0.1:8069
	@$(HARNESS) run

test:       ## linters + the addon's tests + crm's tests + harness tests, fresh database
	@$(HARNESS) test

lint:       ## linters only
	@$(HARNESS) lint

update:     ## upgrade the addon in the database served by `make run`
	@$(HARNESS) update

i18n:       ## export the addon's terms to i18n/*.pot and merge them into zh_CN.po, zh_TW.po
	@$(HARNESS) i18n

stop:       ## stop the embedded PostgreSQL
	@$(HARNESS) stop

env:        ## print the PG* variables of the server in use
	@$(HARNESS) env

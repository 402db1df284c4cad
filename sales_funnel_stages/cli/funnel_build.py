"""`odoo-bin funnel_build -d DATABASE`: build the funnel history that the
install of sales_funnel_stages queued, to the end, in this process (for
scripted deployments; otherwise a scheduled action builds it)."""

import logging
import sys
import time

from odoo import SUPERUSER_ID, api
from odoo.cli.command import Command
from odoo.modules.registry import Registry
from odoo.tools import config

_logger = logging.getLogger(__name__)


class FunnelBuild(Command):
    """Build the sales funnel history queued at install, to the end"""

    name = "funnel_build"

    def run(self, cmdargs):
        config.parser.prog = self.prog
        config.parse_config(cmdargs, setup_logging=True)
        dbnames = config["db_name"]
        if len(dbnames) != 1:
            sys.exit("funnel_build needs one database: -d DATABASE")
        with Registry(dbnames[0]).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            build = env["sales.funnel.build"]._pending()
            if not build:
                _logger.info("funnel build: nothing to build")
                return
            started = time.monotonic()

            def commit(built):
                _logger.info("funnel build: %s of %s leads", build.done_count, build.lead_count)
                # each chunk its own transaction, as the scheduled action's
                cr.commit()  # pylint: disable=invalid-commit

            build._build_committed(commit)
            _logger.info("funnel build: done in %.0f s", time.monotonic() - started)

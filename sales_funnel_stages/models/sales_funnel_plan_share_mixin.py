from odoo import api, models


class SalesFunnelPlanShareMixin(models.AbstractModel):
    """Lines of a plan whose `share` sums to 100 % (size mix, salespeople):
    written, created or deleted on their own, they are checked at once, as
    the plan checks them when it is written (`sales.funnel.plan.CHECKING_LINES`)."""

    _name = "sales.funnel.plan.share.mixin"
    _description = "Sales Funnel Plan Share Line"

    @api.constrains("share", "plan_id")
    def _check_plan_shares(self):
        if not self.env.context.get(self.plan_id.CHECKING_LINES):
            self.plan_id._check_shares()

    def unlink(self):
        plans = self.plan_id
        result = super().unlink()
        if not self.env.context.get(plans.CHECKING_LINES):
            plans.exists()._check_shares()
        return result

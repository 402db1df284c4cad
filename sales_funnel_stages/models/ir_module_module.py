from odoo import api, models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    @api.model
    def _load_module_terms(self, modules, langs, overwrite=False):
        """A language installed after the stages the addon created: they
        take their step's name in it, as the steps do from the addon's
        translations."""
        result = super()._load_module_terms(modules, langs, overwrite=overwrite)
        if "sales_funnel_stages" in modules:
            self.env["crm.stage"]._funnel_named_after_steps()._funnel_name_after_step()
        return result

from lxml import etree

from odoo import fields, models

# what the web client's funnel view calls on the view's model
FUNNEL_METHODS = ("get_funnel", "action_open_step_leads")


class IrUiView(models.Model):
    _inherit = "ir.ui.view"

    type = fields.Selection(selection_add=[("funnel", "Funnel")])

    def _get_view_info(self):
        return {"funnel": {"icon": "fa fa-filter"}} | super()._get_view_info()

    def _validate_tag_funnel(self, node, name_manager, node_info):
        """The funnel is drawn from what the model computes, not from fields
        of the arch: reject any content, and models that compute no funnel."""
        if not node_info["validate"]:
            return
        model = name_manager.model
        if not all(hasattr(model, method) for method in FUNNEL_METHODS):
            self._raise_view_error(
                self.env._("The model %(model)s has no funnel to draw in a funnel view.", model=model._name),
                node,
            )
        for child in node.iterchildren(tag=etree.Element):
            self._raise_view_error(
                self.env._("A funnel view has no content, found a <%(tag)s>.", tag=child.tag), child
            )

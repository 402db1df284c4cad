import { Component, onWillStart } from "@odoo/owl";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";

/**
 * Opens the funnel export wizard from the funnel analysis views; for the
 * users who see all documents (the wizard refuses everyone else anyway).
 */
export class FunnelExportButton extends Component {
    static template = "sales_funnel_stages.FunnelExportButton";
    static props = {};

    setup() {
        this.action = useService("action");
        onWillStart(async () => {
            this.canExport = await user.hasGroup("sales_team.group_sale_salesman_all_leads");
        });
    }

    onClick() {
        this.action.doAction("sales_funnel_stages.sales_funnel_export_action");
    }
}

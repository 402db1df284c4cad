import { Component, onWillStart } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";

/**
 * While the history of the leads that existed at install is being built,
 * says so beside the funnel's figures, with its progress.
 */
export class FunnelBuildNotice extends Component {
    static template = "sales_funnel_stages.FunnelBuildNotice";
    static props = {};

    setup() {
        this.orm = useService("orm");
        onWillStart(async () => {
            this.progress = await this.orm.call("sales.funnel.build", "get_progress", []);
        });
    }
}

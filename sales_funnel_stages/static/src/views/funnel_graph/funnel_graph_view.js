import { registry } from "@web/core/registry";
import { graphView } from "@web/views/graph/graph_view";
import { GraphRenderer } from "@web/views/graph/graph_renderer";
import { FunnelBuildNotice } from "@sales_funnel_stages/components/funnel_build_notice/funnel_build_notice";
import { FunnelExportButton } from "@sales_funnel_stages/components/funnel_export_button/funnel_export_button";

// The funnel analysis as a graph: Odoo's, with the workbook's button and the
// notice of a history being built.

export class FunnelGraphRenderer extends GraphRenderer {
    static template = "sales_funnel_stages.FunnelGraphRenderer";
    static components = { ...GraphRenderer.components, FunnelExportButton, FunnelBuildNotice };
}

registry.category("views").add("sales_funnel_graph", {
    ...graphView,
    Renderer: FunnelGraphRenderer,
    buttonTemplate: "sales_funnel_stages.FunnelGraphButtons",
});

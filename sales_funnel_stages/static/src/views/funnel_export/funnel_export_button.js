import { registry } from "@web/core/registry";
import { graphView } from "@web/views/graph/graph_view";
import { GraphRenderer } from "@web/views/graph/graph_renderer";
import { pivotView } from "@web/views/pivot/pivot_view";
import { PivotRenderer } from "@web/views/pivot/pivot_renderer";
import { FunnelBuildNotice } from "@sales_funnel_stages/components/funnel_build_notice/funnel_build_notice";
import { FunnelExportButton } from "@sales_funnel_stages/components/funnel_export_button/funnel_export_button";

// Pivot and graph views load lazily in Odoo 19: their funnel variants too.

export class FunnelPivotRenderer extends PivotRenderer {
    static template = "sales_funnel_stages.FunnelPivotRenderer";
    static components = { ...PivotRenderer.components, FunnelExportButton, FunnelBuildNotice };
}

export class FunnelGraphRenderer extends GraphRenderer {
    static template = "sales_funnel_stages.FunnelGraphRenderer";
    static components = { ...GraphRenderer.components, FunnelExportButton, FunnelBuildNotice };
}

registry.category("views").add("sales_funnel_pivot", {
    ...pivotView,
    Renderer: FunnelPivotRenderer,
    buttonTemplate: "sales_funnel_stages.FunnelPivotButtons",
});

registry.category("views").add("sales_funnel_graph", {
    ...graphView,
    Renderer: FunnelGraphRenderer,
    buttonTemplate: "sales_funnel_stages.FunnelGraphButtons",
});

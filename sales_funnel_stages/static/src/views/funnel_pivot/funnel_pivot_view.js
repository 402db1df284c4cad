import { registry } from "@web/core/registry";
import { pivotView } from "@web/views/pivot/pivot_view";
import { PivotRenderer } from "@web/views/pivot/pivot_renderer";
import { FunnelBuildNotice } from "@sales_funnel_stages/components/funnel_build_notice/funnel_build_notice";
import { FunnelExportButton } from "@sales_funnel_stages/components/funnel_export_button/funnel_export_button";

// The funnel analysis as a pivot: Odoo's, with the workbook's button and the
// notice of a history being built.

export class FunnelPivotRenderer extends PivotRenderer {
    static template = "sales_funnel_stages.FunnelPivotRenderer";
    static components = { ...PivotRenderer.components, FunnelExportButton, FunnelBuildNotice };
}

registry.category("views").add("sales_funnel_pivot", {
    ...pivotView,
    Renderer: FunnelPivotRenderer,
    buttonTemplate: "sales_funnel_stages.FunnelPivotButtons",
});

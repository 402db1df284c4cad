import { registry } from "@web/core/registry";

// TestFunnelExportButton: a Sales administrator opens the export wizard from
// the funnel chart, the pivot and the graph of the funnel analysis.
registry.category("web_tour.tours").add("sales_funnel_export_button_tour", {
    steps: () => [
        {
            content: "The funnel chart offers the export",
            trigger: ".o_funnel_view .o_funnel_export_button",
        },
        {
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The pivot offers the export",
            trigger: ".o_pivot_view .o_pivot_buttons .o_funnel_export_button",
            run: "click",
        },
        {
            content: "The wizard opens",
            trigger: ".modal .o_form_view .o_field_widget[name=period]",
        },
        {
            trigger: ".modal .modal-footer button:contains(Close)",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "So does the graph",
            trigger: ".o_graph_view .o_funnel_export_button",
        },
    ],
});

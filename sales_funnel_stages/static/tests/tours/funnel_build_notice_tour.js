import { registry } from "@web/core/registry";

// While the history build of TestHistoryBuild runs: its progress beside the
// funnel chart, the pivot and the graph.
const NOTICE = ".o_funnel_build_notice:contains(Funnel history is being built: 1 of)";

registry.category("web_tour.tours").add("sales_funnel_build_notice_tour", {
    steps: () => [
        {
            content: "The funnel chart says the history is being built",
            trigger: `.o_funnel_view ${NOTICE}`,
        },
        {
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "So does the pivot",
            trigger: `.o_pivot_view ${NOTICE}`,
        },
        {
            trigger: ".o_switch_view.o_graph",
            run: "click",
        },
        {
            content: "And the graph",
            trigger: `.o_graph_view ${NOTICE}`,
        },
    ],
});

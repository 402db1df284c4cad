import { registry } from "@web/core/registry";

// Data of TestFunnelChart: the team's 10 opportunities (1,000 to 10,000) entered
// the first step, 4 of them (1,000 to 4,000) advanced to the second one, and one
// was lost (hence archived).
const TEAM = "Funnel Chart Team";

const step = (code) => `.o_funnel_step[data-step-code=${code}]`;

registry.category("web_tour.tours").add("sales_funnel_chart_tour", {
    steps: () => [
        {
            content: "The funnel view opens first, with a band per funnel step",
            trigger: ".o_funnel_view .o_funnel_chart .o_funnel_step:count(6)",
        },
        {
            content: "Keep to the team of the test",
            trigger: ".o_searchview_input",
            run: `edit ${TEAM}`,
        },
        {
            trigger: ".o_searchview_autocomplete .o-dropdown-item:contains(Search Sales Team)",
            run: "click",
        },
        {
            trigger: `.o_searchview_facet:contains(${TEAM})`,
        },
        {
            content: "The first band counts the 10 opportunities that entered it",
            trigger: `${step("identify")} .o_funnel_band_count:text(10)`,
        },
        {
            trigger: `${step("needs")} .o_funnel_band_count:text(4)`,
        },
        {
            content: "4 out of 10 converted, against a target of 40 %",
            trigger: `${step("identify")} .o_funnel_conversion:contains("40% (target 40%)")`,
        },
        {
            content: "None of the 4 went further: below the target of 50 %, flagged",
            trigger: `${step("needs")} .o_funnel_conversion_below:contains("0% (target 50%)")`,
        },
        {
            content: "Beside the band: its amount, weighted, and the one lost there",
            trigger: `${step("identify")} .o_funnel_band_detail:contains(1 lost · median 0 days)`,
        },
        {
            content: "Under it, how many of its entries were won in the end",
            trigger: `${step("identify")} .o_funnel_won_rate:contains(0% won in the end)`,
        },
        {
            content: "The last band is the won one",
            trigger: `${step("after_sales")} .o_funnel_band_name:contains((won))`,
        },
        {
            content: "Size the bands by amount",
            trigger: ".o_funnel_measure_amount",
            run: "click",
        },
        {
            content: "The first band holds the 10 amounts, 1,000 to 10,000",
            trigger: `${step("identify")} .o_funnel_band_count:contains(55)`,
        },
        {
            content: "The second one the 4 that advanced",
            trigger: `${step("needs")} .o_funnel_band_count:contains(10)`,
        },
        {
            trigger: `${step("identify")} .o_funnel_band_detail:contains(10 entered)`,
        },
        {
            content: "Compare the salespeople's funnels",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            trigger: ".o_group_by_menu .o-dropdown-item:contains(Salesperson)",
            run: "click",
        },
        {
            content: "Side by side: A converted 4 of 5, B none of 5; B is the weaker",
            trigger:
                ".o_funnel_comparison th:contains(Chart Seller A) ~ th:contains(Chart Seller B)",
        },
        {
            trigger: ".o_funnel_comparison .o_funnel_difference:contains(+80.0 pts)",
        },
        {
            trigger: ".o_funnel_comparison td:nth-child(3) .o_funnel_weaker:contains(0%)",
        },
        {
            content: "Back to one funnel",
            trigger: ".o_searchview_facet:contains(Salesperson) .o_facet_remove",
            run: "click",
        },
        {
            trigger: ".o_funnel_view:not(:has(.o_funnel_comparison))",
        },
        {
            content: "Open the opportunities of the first band",
            trigger: `${step("identify")} .o_funnel_band`,
            run: "click",
        },
        {
            content: "The step is a facet of the search",
            trigger: ".o_searchview_facet:contains(Lead identification)",
        },
        {
            content:
                "The 10 opportunities by what became of them: 4 advanced, 5 still there, the lost one",
            trigger: ".o_list_view .o_group_name:contains(Advanced (4))",
        },
        {
            trigger: ".o_list_view .o_group_name:contains(Still in step (5))",
        },
        {
            trigger: ".o_list_view .o_group_name:contains(Lost in step (1))",
        },
        {
            trigger: ".o_last_breadcrumb_item:contains(Lead identification)",
        },
        {
            content: "Back to the funnel, still of the team",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Funnel Analysis)",
            run: "click",
        },
        {
            trigger: `${step("identify")} .o_funnel_band_count:text(10)`,
        },
    ],
});

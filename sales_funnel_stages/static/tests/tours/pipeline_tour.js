import { registry } from "@web/core/registry";

// A team's pipeline after Apply Standard Stages (TestPipelineTours): six
// columns, one per funnel step, in the user's language.
function pipelineSteps(names) {
    return [
        ...names.map((name, index) => ({
            content: `Column ${index + 1} is “${name}”`,
            trigger: `.o_kanban_group:nth-child(${index + 1}) .o_column_title:contains(${name})`,
        })),
        {
            content: "No seventh column",
            trigger: `.o_kanban_renderer:not(:has(.o_kanban_group:nth-child(${names.length + 1})))`,
        },
    ];
}

registry.category("web_tour.tours").add("sales_funnel_pipeline_en_tour", {
    steps: () =>
        pipelineSteps([
            "Lead identification",
            "Needs analysis",
            "Solution design",
            "Proposal & quotation",
            "Negotiation & signing",
            "After-sales service",
        ]),
});

registry.category("web_tour.tours").add("sales_funnel_pipeline_zh_tour", {
    steps: () =>
        pipelineSteps([
            "潜在客户识别",
            "需求分析",
            "解决方案制定",
            "提案与报价",
            "谈判与签约",
            "售后服务",
        ]),
});

// A move refused by a stage gate: the form says why and shows the stage,
// and the probability, the lead still has.
registry.category("web_tour.tours").add("sales_funnel_gate_refusal_tour", {
    steps: () => [
        {
            trigger: ".o_statusbar_status button:contains(Team proposal)",
            run: "click",
        },
        {
            content: "The gate says why",
            trigger: ".modal:contains(Need is not confirmed)",
        },
        {
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The stage is the one the lead still has",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Team needs)",
        },
        {
            content: "And so is its probability",
            trigger: ".o_field_widget[name=probability] input:value(25.00)",
        },
        {
            // the put-back stage may leave the form marked as changed, with
            // the values it had: nothing to save, so nothing saved at the end
            content: "Leave the form as it was",
            trigger: ".o_form_view .o_form_sheet",
            run() {
                const buttons = document.querySelector(
                    ".o_form_view .o_form_status_indicator_buttons"
                );
                if (!buttons.classList.contains("invisible")) {
                    buttons.querySelector(".o_form_button_cancel").click();
                }
            },
        },
        {
            content: "Nothing left to save",
            trigger: ".o_form_view .o_form_status_indicator_buttons.invisible:not(:visible)",
        },
    ],
});

// The team form's Funnel Health tab (TestPipelineTours): one readable line per
// row, the badge counting the warnings the line names.
registry.category("web_tour.tours").add("sales_funnel_team_health_tour", {
    steps: () => [
        {
            trigger: ".o_notebook a[name=funnel_health]",
            run: "click",
        },
        {
            content: "The salesperson's line: two warnings, named",
            trigger:
                ".o_field_widget[name=funnel_diagnosis_ids] .o_data_row:contains(Health Seller):has(.badge:contains(2)):contains(Few Opportunities · Stalled Opportunities)",
        },
        {
            content: "Every line stays one line high",
            trigger: ".o_field_widget[name=funnel_diagnosis_ids] .o_data_row",
            run() {
                const rows = document.querySelectorAll(
                    ".o_field_widget[name=funnel_diagnosis_ids] .o_data_row"
                );
                for (const row of rows) {
                    if (row.offsetHeight > 60) {
                        throw new Error(`a line of the health is ${row.offsetHeight}px high`);
                    }
                }
            },
        },
    ],
});

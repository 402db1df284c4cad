import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { formatInteger, formatPercentage } from "@web/views/fields/formatters";

// the last band keeps this much of the first band's colour strength
const LIGHTEST_SHADE = 0.45;

/**
 * The funnel as bands in step order, each as wide as its entries relative to
 * the widest and narrowing to the next band's width, with the conversion to
 * the next step against the step's target between consecutive bands.
 */
export class FunnelRenderer extends Component {
    static template = "sales_funnel_stages.FunnelRenderer";
    static props = {
        title: String,
        steps: Array,
        onStepClick: Function,
    };

    get bands() {
        const { steps } = this.props;
        const widest = Math.max(...steps.map((step) => step.entered_count));
        return steps.map((step, index) => {
            const next = steps[index + 1];
            const shade = 1 - ((1 - LIGHTEST_SHADE) * index) / Math.max(steps.length - 1, 1);
            return {
                step,
                count: formatInteger(step.entered_count),
                style: [
                    `width: ${(100 * step.entered_count) / widest}%`,
                    `--o-funnel-taper: ${this.taper(step, next)}%`,
                    `--o-funnel-shade: ${shade}`,
                ].join("; "),
                tooltip:
                    step.entered_count > 0 &&
                    _t("Open the opportunities that entered %(step)s", { step: step.step }),
                conversion: next && this.conversion(step),
            };
        });
    }

    /**
     * How much each side of the band's bottom edge comes in, in % of the
     * band's width, for the band to end as wide as the next one starts.
     */
    taper(step, next) {
        if (!next || !step.entered_count || next.entered_count >= step.entered_count) {
            return 0;
        }
        return (50 * (step.entered_count - next.entered_count)) / step.entered_count;
    }

    conversion(step) {
        if (!step.entered_count) {
            return { text: _t("No entries"), className: "text-muted" };
        }
        const rate = formatPercentage(step.conversion_rate / 100);
        if (!step.target_conversion) {
            return { text: rate, className: "text-muted" };
        }
        // compared as displayed: 2/3 meets a target of 66.67 %
        const belowTarget =
            Math.round(step.conversion_rate * 100) < Math.round(step.target_conversion * 100);
        return {
            text: _t("%(rate)s (target %(target)s)", {
                rate,
                target: formatPercentage(step.target_conversion / 100),
            }),
            className: belowTarget ? "o_funnel_conversion_below text-danger" : "text-success",
            belowTarget,
        };
    }
}

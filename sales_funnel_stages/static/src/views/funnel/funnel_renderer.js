import { Component } from "@odoo/owl";
import { formatCurrency } from "@web/core/currency";
import { _t } from "@web/core/l10n/translation";
import { formatFloat, formatInteger, formatPercentage } from "@web/views/fields/formatters";

// the last band keeps this much of the first band's colour strength
const LIGHTEST_SHADE = 0.45;

/**
 * The funnel as bands in step order, each as wide as its entries (or their
 * amount) relative to the widest and narrowing to the next band's width, with
 * its amounts, losses and median stay beside it, and between consecutive
 * bands the conversion to the next step against the step's target and the
 * share of the step's entries won in the end.
 */
export class FunnelRenderer extends Component {
    static template = "sales_funnel_stages.FunnelRenderer";
    static props = {
        title: String,
        steps: Array,
        groups: { type: Array, optional: true },
        measure: { type: String, validate: (measure) => ["count", "amount"].includes(measure) },
        onStepClick: Function,
    };

    get bands() {
        const { steps } = this.props;
        const sizes = steps.map((step) => this.size(step));
        const widest = Math.max(...sizes, 0) || 1;
        return steps.map((step, index) => {
            const next = steps[index + 1];
            const shade = 1 - ((1 - LIGHTEST_SHADE) * index) / Math.max(steps.length - 1, 1);
            return {
                step,
                name: step.is_won ? _t("%(step)s (won)", { step: step.step }) : step.step,
                value:
                    this.props.measure === "amount"
                        ? this.money(step, step.expected_revenue)
                        : formatInteger(step.entered_count),
                details: this.details(step),
                style: [
                    `width: ${(100 * sizes[index]) / widest}%`,
                    `--o-funnel-taper: ${next ? this.taper(sizes[index], sizes[index + 1]) : 0}%`,
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
     * The funnels of the group-by's values side by side: per step, each
     * group's entries and conversion to the next step; with two groups, the
     * difference in points, the weaker side marked.
     */
    get comparison() {
        const groups = this.props.groups || [];
        const pair = groups.length === 2;
        const rows = this.props.steps.map((step, index) => {
            const lines = groups.map((group) => group.steps[index]);
            const last = index === this.props.steps.length - 1;
            const rates = lines.map((line) => line.conversion_rate);
            const weakest =
                pair && !last && rates[0] !== rates[1] ? rates.indexOf(Math.min(...rates)) : -1;
            return {
                key: step.step_id,
                step: step.is_won ? _t("%(step)s (won)", { step: step.step }) : step.step,
                cells: lines.map((line, position) => ({
                    key: groups[position].label,
                    count: formatInteger(line.entered_count),
                    conversion:
                        !last && line.entered_count
                            ? formatPercentage(line.conversion_rate / 100)
                            : "",
                    weaker: position === weakest,
                })),
                difference:
                    pair && !last && lines.every((line) => line.entered_count)
                        ? _t("%(points)s pts", {
                              points: formatFloat(rates[0] - rates[1], { digits: [16, 1] }).replace(
                                  /^(?!-)/,
                                  "+"
                              ),
                          })
                        : "",
            };
        });
        const differenceTitle =
            pair &&
            _t("Conversion to the next step of %(first)s minus that of %(second)s, in points", {
                first: groups[0].label,
                second: groups[1].label,
            });
        return { groups, pair, rows, differenceTitle };
    }

    size(step) {
        return this.props.measure === "amount"
            ? Math.max(step.expected_revenue, 0)
            : step.entered_count;
    }

    money(step, value) {
        return formatCurrency(value, step.currency_id, { humanReadable: true });
    }

    /** The band's other figures: what the measure does not show, its losses and stay. */
    details(step) {
        if (!step.entered_count) {
            return [];
        }
        const weighted = _t("weighted %(amount)s", {
            amount: this.money(step, step.weighted_revenue),
        });
        const other =
            this.props.measure === "amount"
                ? _t("%(count)s entered", { count: formatInteger(step.entered_count) })
                : this.money(step, step.expected_revenue);
        const lines = [`${other} · ${weighted}`];
        if (!step.is_won) {
            lines.push(
                _t("%(lost)s lost · median %(days)s days", {
                    lost: formatInteger(step.lost_count),
                    days: formatInteger(Math.round(step.days_in_step_median)),
                })
            );
        }
        return lines;
    }

    /**
     * How much each side of the band's bottom edge comes in, in % of the
     * band's width, for the band to end as wide as the next one starts.
     */
    taper(size, nextSize) {
        if (!size || nextSize >= size) {
            return 0;
        }
        return (50 * (size - nextSize)) / size;
    }

    conversion(step) {
        if (!step.entered_count) {
            return { text: _t("No entries"), className: "text-muted" };
        }
        const rate = formatPercentage(step.conversion_rate / 100);
        const won = _t("%(rate)s won in the end", { rate: formatPercentage(step.won_rate / 100) });
        if (!step.target_conversion) {
            return { text: rate, won, className: "text-muted" };
        }
        // compared as displayed: 2/3 meets a target of 66.67 %
        const belowTarget =
            Math.round(step.conversion_rate * 100) < Math.round(step.target_conversion * 100);
        return {
            text: _t("%(rate)s (target %(target)s)", {
                rate,
                target: formatPercentage(step.target_conversion / 100),
            }),
            won,
            className: belowTarget ? "o_funnel_conversion_below text-danger" : "text-success",
            belowTarget,
        };
    }
}

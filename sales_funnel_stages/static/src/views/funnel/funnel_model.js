import { KeepLast } from "@web/core/utils/concurrency";
import { Model } from "@web/model/model";

/**
 * The funnel of the current search: one entry per funnel step, in step order,
 * reached or not, as the server's `get_funnel` computes it for the domain;
 * with a group-by, the funnel of each of its values on the same steps
 * (`get_funnel_comparison`), to compare them side by side.
 */
export class FunnelModel extends Model {
    setup({ resModel }) {
        this.resModel = resModel;
        // a slow answer to an earlier search must not replace a later one
        this.keepLast = new KeepLast();
        this.steps = [];
        this.groups = [];
        this.domain = [];
        this.context = {};
    }

    async load({ domain, context, groupBy }) {
        // by step, each funnel would hold one step: nothing to compare
        const groupby = groupBy?.find((spec) => !spec.startsWith("step_id"));
        const [steps, groups] = await this.keepLast.add(
            Promise.all([
                this.orm.call(this.resModel, "get_funnel", [], { domain, context }),
                groupby
                    ? this.orm.call(this.resModel, "get_funnel_comparison", [], {
                          domain,
                          groupby,
                          context,
                      })
                    : [],
            ])
        );
        Object.assign(this, { steps, groups, domain, context });
    }

    hasData() {
        return this.steps.some((step) => step.entered_count);
    }

    /**
     * The window action listing the leads that entered the step, within the
     * search the funnel was loaded with.
     */
    getStepLeadsAction(step) {
        return this.orm.call(this.resModel, "action_open_step_leads", [this.domain, step.step_id], {
            context: this.context,
        });
    }
}

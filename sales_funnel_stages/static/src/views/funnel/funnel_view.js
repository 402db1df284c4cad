import { registry } from "@web/core/registry";
import { FunnelArchParser } from "./funnel_arch_parser";
import { FunnelController } from "./funnel_controller";
import { FunnelModel } from "./funnel_model";
import { FunnelRenderer } from "./funnel_renderer";

export const funnelView = {
    type: "funnel",
    ArchParser: FunnelArchParser,
    Controller: FunnelController,
    Model: FunnelModel,
    Renderer: FunnelRenderer,
    // a group-by compares the funnels of its values under the chart
    searchMenuTypes: ["filter", "groupBy", "favorite"],
    props: (genericProps, view) => ({
        ...genericProps,
        archInfo: new view.ArchParser().parse(genericProps.arch),
        Model: view.Model,
        Renderer: view.Renderer,
    }),
};

registry.category("views").add("funnel", funnelView);

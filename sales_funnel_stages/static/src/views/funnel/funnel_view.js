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
    // the chart is the whole funnel: a group-by would not change it
    searchMenuTypes: ["filter", "favorite"],
    props: (genericProps, view) => ({
        ...genericProps,
        archInfo: new view.ArchParser().parse(genericProps.arch),
        Model: view.Model,
        Renderer: view.Renderer,
    }),
};

registry.category("views").add("funnel", funnelView);

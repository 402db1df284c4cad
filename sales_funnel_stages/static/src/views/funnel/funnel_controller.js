import { Component, useRef, useState } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { useModel } from "@web/model/model";
import { useSetupAction } from "@web/search/action_hook";
import { CogMenu } from "@web/search/cog_menu/cog_menu";
import { Layout } from "@web/search/layout";
import { SearchBar } from "@web/search/search_bar/search_bar";
import { useSearchBarToggler } from "@web/search/search_bar/search_bar_toggler";
import { ActionHelper } from "@web/views/action_helper";
import { standardViewProps } from "@web/views/standard_view_props";
import { FunnelBuildNotice } from "@sales_funnel_stages/components/funnel_build_notice/funnel_build_notice";
import { FunnelExportButton } from "@sales_funnel_stages/components/funnel_export_button/funnel_export_button";

export class FunnelController extends Component {
    static template = "sales_funnel_stages.FunnelView";
    static components = {
        Layout,
        SearchBar,
        CogMenu,
        ActionHelper,
        FunnelExportButton,
        FunnelBuildNotice,
    };
    static props = {
        ...standardViewProps,
        archInfo: Object,
        Model: Function,
        Renderer: Function,
    };

    setup() {
        this.actionService = useService("action");
        // useModel reloads the funnel on every change of the search
        this.model = useModel(this.props.Model, { resModel: this.props.resModel });
        useSetupAction({ rootRef: useRef("root") });
        this.searchBarToggler = useSearchBarToggler();
        // bands sized by the number of opportunities or by their amount
        this.state = useState({ measure: "count" });
    }

    async openStep(step) {
        const action = await this.model.getStepLeadsAction(step);
        await this.actionService.doAction(action);
    }
}

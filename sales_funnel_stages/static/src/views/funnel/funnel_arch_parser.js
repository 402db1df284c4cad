import { _t } from "@web/core/l10n/translation";

/**
 * A funnel arch holds no field: the bands come from the model's `get_funnel`.
 * Only its title is read, to name the chart for assistive technologies.
 */
export class FunnelArchParser {
    parse(xmlDoc) {
        return {
            title: xmlDoc.getAttribute("string") || _t("Funnel"),
        };
    }
}

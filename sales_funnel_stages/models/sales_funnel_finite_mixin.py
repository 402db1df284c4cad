import math

from odoo import api, models
from odoo.exceptions import ValidationError


class SalesFunnelFiniteMixin(models.AbstractModel):
    """Numbers the funnel computes with (weights, targets, thresholds,
    rates, shares) are finite: NaN and infinities, which JSON-RPC lets
    through and PostgreSQL stores, are refused with the field's name before
    anything computes with them."""

    _name = "sales.funnel.finite.mixin"
    _description = "Sales Funnel Finite Numbers"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_finite(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_finite(vals)
        return super().write(vals)

    @api.model
    def _check_finite(self, vals):
        for name, value in vals.items():
            field = self._fields.get(name)
            if (
                field
                and field.type in ("float", "monetary")
                and isinstance(value, float)
                and not math.isfinite(value)
            ):
                raise ValidationError(
                    self.env._(
                        "“%(field)s” must be a number, not %(value)s.",
                        field=field._description_string(self.env),
                        value=value,
                    )
                )

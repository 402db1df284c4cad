from odoo import models

# A contact with the customer on a lead: a comment, an e-mail, a done
# activity (column names of mail_message, unqualified).
LEAD_CONTACT = (
    "model = 'crm.lead'"
    " AND (message_type IN ('comment', 'email', 'email_outgoing') OR mail_activity_type_id IS NOT NULL)"
)


class MailMessage(models.Model):
    _inherit = "mail.message"

    # The funnel health (`sales.funnel.diagnosis`) looks up the last contact
    # of every open opportunity. Through mail's (model, res_id) index that
    # reads every message of each one, stage tracking included: 2.6 s of the
    # 4.9 s of the diagnosis on a million leads. This index holds the
    # contacts only, and gives each lead's last one from its end.
    _lead_contact_idx = models.Index(f"(res_id, date) WHERE {LEAD_CONTACT}")

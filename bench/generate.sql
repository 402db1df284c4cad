-- Volume for the benchmarks, in SQL: customers, leads, and the stage changes
-- Odoo records as mail tracking values. Run after seed.py:
--   psql -v leads=1000000 -f generate.sql
-- Each lead has 1 to 6 tracked stage changes (3.5 on average).
\set ON_ERROR_STOP on
SELECT setseed(0.42);

INSERT INTO res_partner (name, complete_name, active, type, is_company, create_date, write_date)
SELECT 'Bench customer ' || g, 'Bench customer ' || g, TRUE, 'contact', TRUE, now(), now()
  FROM generate_series(1, greatest(:leads / 20, 10)) AS g;
UPDATE res_partner SET commercial_partner_id = id WHERE name LIKE 'Bench customer %';

CREATE TEMP TABLE bench_refs AS
SELECT (SELECT array_agg(id ORDER BY id) FROM res_users WHERE login LIKE 'bench_user_%') AS users,
       (SELECT array_agg(id ORDER BY id) FROM crm_team WHERE name->>'en_US' LIKE 'Bench Team %') AS teams,
       (SELECT array_agg(id ORDER BY sequence, id) FROM crm_stage WHERE is_won IS NOT TRUE) AS open_stages,
       (SELECT id FROM crm_stage WHERE is_won ORDER BY sequence, id LIMIT 1) AS won_stage,
       (SELECT min(id) FROM res_partner WHERE name LIKE 'Bench customer %') AS first_partner,
       (SELECT count(*) FROM res_partner WHERE name LIKE 'Bench customer %') AS partners,
       (SELECT id FROM res_company ORDER BY id LIMIT 1) AS company;

CREATE TEMP TABLE bench_leads AS
SELECT g AS n,
       random() AS outcome,
       -- created in the order of their ids, as in any Odoo database (give or
       -- take the 95 s between two leads): the summary is built in that order
       now() - make_interval(secs => (1 - (g - random()) / :leads) * 3 * 365 * 86400) AS created,
       round((300 + 120000 * power(random(), 3))::numeric, 2) AS revenue,
       1 + floor(random() * 6)::int AS changes,
       random() AS r_user, random() AS r_stage, random() AS r_partner, random() AS r_deadline
  FROM generate_series(1, :leads) AS g;

INSERT INTO crm_lead (
    name, type, active, user_id, team_id, company_id, stage_id, partner_id, expected_revenue,
    probability, automated_probability, prorated_revenue, won_status, date_deadline, date_closed,
    create_date, write_date, date_last_stage_update, date_open, priority, color, create_uid, write_uid,
    email_from, contact_name)
SELECT 'Bench opportunity ' || l.n,
       CASE WHEN l.n % 7 = 0 THEN 'lead' ELSE 'opportunity' END,
       NOT (l.outcome >= 0.10 AND l.outcome < 0.25),
       r.users[1 + (l.r_user * 19.999)::int],
       r.teams[1 + ((l.r_user * 19.999)::int / 5)],
       r.company,
       CASE WHEN l.outcome < 0.10 THEN r.won_stage
            ELSE r.open_stages[1 + (l.r_stage * (array_length(r.open_stages, 1) - 1))::int] END,
       r.first_partner + (l.r_partner * (r.partners - 1))::int,
       l.revenue,
       CASE WHEN l.outcome < 0.10 THEN 100 WHEN l.outcome < 0.25 THEN 0 ELSE 10 + l.r_stage * 80 END,
       CASE WHEN l.outcome < 0.10 THEN 100 WHEN l.outcome < 0.25 THEN 0 ELSE 10 + l.r_stage * 80 END,
       round(l.revenue * (CASE WHEN l.outcome < 0.10 THEN 100 WHEN l.outcome < 0.25 THEN 0
                               ELSE 10 + l.r_stage * 80 END)::numeric / 100, 2),
       CASE WHEN l.outcome < 0.10 THEN 'won' WHEN l.outcome < 0.25 THEN 'lost' ELSE 'pending' END,
       CASE WHEN l.r_deadline < 0.7 THEN (l.created + make_interval(days => (l.r_deadline * 260)::int))::date END,
       CASE WHEN l.outcome < 0.25 THEN l.created + make_interval(days => l.changes * 9) END,
       l.created, l.created + make_interval(days => l.changes * 9), l.created + make_interval(days => l.changes * 9),
       l.created, '0', 0, 1, 1,
       'buyer' || l.n || '@example.com', 'Buyer ' || l.n
  FROM bench_leads AS l CROSS JOIN bench_refs AS r
 ORDER BY l.n;

-- Stage changes as crm's tracking records them: one mail.message and one
-- mail.tracking.value per change, walking the stage list towards the
-- lead's current stage.
CREATE TEMP TABLE bench_changes AS
SELECT nextval('mail_message_id_seq') AS message_id,
       lead.id AS lead_id,
       lead.create_date + make_interval(days => step.i * 9) AS changed,
       CASE WHEN step.i = 1 THEN r.open_stages[1]
            ELSE r.open_stages[1 + ((step.i - 1) % array_length(r.open_stages, 1))] END AS old_stage,
       CASE WHEN step.i = bl.changes THEN lead.stage_id
            ELSE r.open_stages[1 + (step.i % array_length(r.open_stages, 1))] END AS new_stage
  FROM crm_lead AS lead
  JOIN bench_leads AS bl ON 'Bench opportunity ' || bl.n = lead.name
 CROSS JOIN bench_refs AS r
 CROSS JOIN LATERAL generate_series(1, bl.changes) AS step(i);

INSERT INTO mail_message (id, model, res_id, message_type, subtype_id, author_id, date, create_date,
                          write_date, create_uid, write_uid, record_company_id, body)
SELECT c.message_id, 'crm.lead', c.lead_id, 'notification',
       (SELECT res_id FROM ir_model_data WHERE module = 'crm' AND name = 'mt_lead_stage'),
       3, c.changed, c.changed, c.changed, 1, 1, r.company, ''
  FROM bench_changes AS c CROSS JOIN bench_refs AS r;

INSERT INTO mail_tracking_value (mail_message_id, field_id, old_value_integer, new_value_integer,
                                 old_value_char, new_value_char, create_date, write_date, create_uid, write_uid)
SELECT c.message_id,
       (SELECT id FROM ir_model_fields WHERE model = 'crm.lead' AND name = 'stage_id'),
       c.old_stage, c.new_stage, old.name->>'en_US', new.name->>'en_US', c.changed, c.changed, 1, 1
  FROM bench_changes AS c
  JOIN crm_stage AS old ON old.id = c.old_stage
  JOIN crm_stage AS new ON new.id = c.new_stage;

SELECT (SELECT count(*) FROM crm_lead) AS leads,
       (SELECT count(*) FROM mail_tracking_value) AS stage_changes;

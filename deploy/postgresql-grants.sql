-- PostgreSQL for the receipt store, step 2 of 2: run after every `db upgrade`, as website_owner
--   psql -v ON_ERROR_STOP=1 -U website_owner -d consent -f deploy/postgresql-grants.sql
-- The site's role reads and appends receipts, deletes them only for retention/erasure, and can
-- never change one: no UPDATE (the trigger refuses it for the owner too) and no TRUNCATE.
GRANT CONNECT ON DATABASE consent TO website_app;
GRANT USAGE ON SCHEMA public TO website_app;
GRANT SELECT ON alembic_version TO website_app;
GRANT SELECT, INSERT, DELETE ON receipts TO website_app;
REVOKE UPDATE, TRUNCATE, REFERENCES, TRIGGER ON receipts FROM website_app;
GRANT SELECT, INSERT ON notices TO website_app;
-- The aggregate GPC counter is an upsert-increment (no personal data).
GRANT SELECT, INSERT, UPDATE ON gpc_views TO website_app;
-- Tamper evidence (docs/proof.md): seals and removal notes are appended, never changed (a
-- trigger refuses UPDATE/DELETE/TRUNCATE for the owner too).
GRANT SELECT, INSERT ON seals TO website_app;
GRANT SELECT, INSERT ON removal_notes TO website_app;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON seals, removal_notes FROM website_app;
-- Admin accounts and their audit log (migration 0005): logins count failures and set locks
-- (update); accounts are created from the CLI as the owner or the app role; the audit log only
-- grows (retention is the operator's decision).
GRANT SELECT, INSERT, UPDATE ON admin_users TO website_app;
GRANT SELECT, INSERT ON admin_audit TO website_app;
GRANT USAGE ON SEQUENCE admin_audit_id_seq TO website_app;
-- Visitor rights, channels, contact form (migration 0006). An erasure leaves a tombstone
-- (insert; retention deletes old ones); channels are created, revoked (update) and listed;
-- contact messages are stored, marked answered, deleted. The serial ids need their sequences.
GRANT SELECT, INSERT, DELETE ON tombstones TO website_app;
GRANT SELECT, INSERT, UPDATE ON channels TO website_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON contact_messages TO website_app;
GRANT USAGE ON SEQUENCE tombstones_id_seq, contact_messages_id_seq TO website_app;

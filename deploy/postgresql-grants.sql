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

-- PostgreSQL for the receipt store, step 1 of 2: run once as a superuser
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -f deploy/postgresql-setup.sql
-- Two roles: website_owner owns the schema and runs `flask --app wsgi db upgrade`;
-- website_app is what the site connects as (SELECT/INSERT, DELETE for retention, no UPDATE).
-- Set their passwords afterwards: \password website_owner and \password website_app.
CREATE ROLE website_owner LOGIN;
CREATE ROLE website_app LOGIN;
CREATE DATABASE consent OWNER website_owner ENCODING 'UTF8';
\connect consent
-- Only the owner creates objects (PostgreSQL 15 already refuses CREATE on public to others).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO website_owner;

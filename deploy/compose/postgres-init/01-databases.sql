-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d).
-- POSTGRES_DB (govbot) holds the conversation log and the console's tables (`python -m bot migrate`);
-- the services sandbox has a database of its own (it runs its Alembic migrations and seed at start).
CREATE DATABASE govbot_services OWNER govbot;

#!/usr/bin/env bash
# The postgres image runs this once, when its data volume is empty (/docker-entrypoint-initdb.d).
#
# Creates the owner login the migrations run as ("lms": LMS_DATABASE_URL) and its database.
# It may create roles, for the app role "lms_app" the first migration creates, and it owns the
# tables; it is not a superuser, so the migrate service, the only one that holds it, cannot read
# the server's files or run programs on it. The app replicas hold the app login alone.
set -e
owner_password=$(cat "${OWNER_PASSWORD_FILE:?names the file with the password of the owner login}")
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
	-v owner="${OWNER_ROLE:-lms}" -v database="${OWNER_DATABASE:-lms}" -v password="$owner_password" <<'SQL'
CREATE ROLE :"owner" LOGIN CREATEROLE PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"owner";
SQL

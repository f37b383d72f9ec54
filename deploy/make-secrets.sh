#!/bin/sh
# Creates the secret files compose.yaml mounts under /run/secrets (README, "Running with
# Docker Compose"). Run it once before the first `docker compose up`. Running it again keeps
# the passwords and the key it made and rewrites only the URLs derived from them.
#
#   deploy/make-secrets.sh [DIRECTORY]      (default: deploy/secrets)
set -eu

dir=${1:-"$(dirname "$0")/secrets"}
command -v openssl >/dev/null || { echo "make-secrets: openssl is needed" >&2; exit 1; }
mkdir -p "$dir"
# Only this user may enter the directory. The files in it are readable by all (0644) because
# compose bind-mounts each file as it is, and the app and PostgreSQL read them as their own
# unprivileged users inside the containers.
chmod 700 "$dir"

random_hex() {
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

keep_or_create() {  # NAME BYTES
	if [ ! -s "$dir/$1" ]; then
		random_hex "$2" >"$dir/$1"
	fi
}

keep_or_create postgres_password 32  # PostgreSQL's superuser, for administrators only
keep_or_create owner_password 32     # the owner login "lms": runs migrations, owns the tables
keep_or_create jwt_secret 48         # signs and verifies the API's tokens
keep_or_create metrics_token 32      # what a Prometheus scraper sends to GET /metrics

owner_password=$(cat "$dir/owner_password")
# The app role's password, derived from the owner's exactly as `lms-graphql migrate` derives
# it and sets it on the role (README, "Database roles").
app_password=$(printf '%s' "lms-graphql app role lms_app" | openssl dgst -sha256 -hmac "$owner_password" -r | cut -d' ' -f1)
[ ${#app_password} -eq 64 ] || { echo "make-secrets: openssl did not compute an HMAC" >&2; exit 1; }

printf 'postgresql://lms:%s@db:5432/lms\n' "$owner_password" >"$dir/database_url"
printf 'postgresql://lms_app:%s@db:5432/lms\n' "$app_password" >"$dir/app_database_url"
for name in postgres_password owner_password jwt_secret metrics_token database_url app_database_url; do
	chmod 644 "$dir/$name"
done
echo "secrets in $dir: postgres_password owner_password jwt_secret metrics_token database_url app_database_url"

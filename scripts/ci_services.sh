# Services the storage, API and browser tests need in CI: a local PostgreSQL with a `comptune_test`
# database, and Debian's Chromium for the workbench test (tests/web, Playwright drives
# /usr/bin/chromium; Playwright never downloads a browser of its own).
# `.ci/run` sources this file (as root on a fresh Debian 12 machine) before `make test`; it exports
# COMPTUNE_TEST_POSTGRES_URL, which makes tests/api run against PostgreSQL as well as SQLite.
# Safe to source again: every step checks what is already there.

_ci_chromium_setup() {
  if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  fi
  echo "Chromium ready: $(chromium --version 2>/dev/null || echo 'chromium --version failed')"
}

_ci_pg_setup() {
  local password=comptune
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$version main"; then
    pg_createcluster "$version" main >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
    pg_ctlcluster "$version" main start
  fi
  local i
  for i in $(seq 1 30); do
    if su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432"; then break; fi
    sleep 1
  done
  # administrative steps as the postgres superuser over the local socket (peer authentication)
  su postgres -c "psql -v ON_ERROR_STOP=1 -q -d postgres" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'comptune') THEN
    CREATE ROLE comptune LOGIN PASSWORD '$password';
  ELSE
    ALTER ROLE comptune LOGIN PASSWORD '$password';
  END IF;
END \$\$;
SQL
  if ! su postgres -c "psql -tA -d postgres -c \"SELECT 1 FROM pg_database WHERE datname = 'comptune_test'\"" | grep -qx 1; then
    su postgres -c "createdb -O comptune comptune_test"
  fi
  export COMPTUNE_TEST_POSTGRES_URL="postgresql+psycopg://comptune:${password}@127.0.0.1:5432/comptune_test"
  echo "PostgreSQL $version ready: COMPTUNE_TEST_POSTGRES_URL=postgresql+psycopg://comptune:***@127.0.0.1:5432/comptune_test"
}
_ci_pg_setup
unset -f _ci_pg_setup
_ci_chromium_setup
unset -f _ci_chromium_setup

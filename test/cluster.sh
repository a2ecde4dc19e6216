# test/cluster.sh -- start and stop a throwaway PostgreSQL cluster.
#
# Sourced by test/demo.sh, test/check.sh and test/bench/*.sh.  The cluster
# runs as the "postgres" operating-system user (PostgreSQL refuses root),
# listens only on a Unix socket in its own directory, and is removed and
# made anew on every start, so running a script twice is safe.
#
#   cluster_start DIR PORT   -> exports PGHOST, PGPORT, PGUSER, PGDATABASE
#   cluster_stop DIR

PG_BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}

as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cluster_stop() {
	local dir=$1
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

cluster_start() {
	local dir=$1 port=$2
	cluster_stop "$dir"
	rm -rf "$dir"
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
	as_postgres "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log"; return 1; }
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
max_connections = 40
shared_preload_libraries = 'profile_ext'
CONF
	as_postgres "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ||
		{ cat "$dir/server.log"; return 1; }
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
}

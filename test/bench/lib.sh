# test/bench/lib.sh -- what the benchmarks share (sourced by them, from the
# top of the repository; not a benchmark itself).
. test/deps.sh
. test/cluster.sh

# Debian's packages and this build (SKIP_APT=1 SKIP_BUILD=1 reuse them).
bench_prepare() {
	install_deps
	[ "${SKIP_BUILD:-0}" = 1 ] || build_install
}

# A throwaway cluster in DIR on PORT, stopped when the script exits.
bench_cluster() {
	cluster_start "$1" "$2"
	# shellcheck disable=SC2064  # the directory, as it is now
	trap "cluster_stop '$1'" EXIT
}

# The median of the arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The extension, a tenant "bench" without rate limits, and a client
# "bench-client" with the contract it needs, in the cluster of PGHOST.
bench_tenant() {
	psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION profile_ext;
SELECT profile.create_tenant('bench', '{"rate_limit": {"per_second": 0, "per_minute": 0}}');
SELECT profile.create_client('bench-client');
SELECT profile.grant_contract('bench-client', 'create_customer_api');
CREATE SCHEMA bench;
SQL
}

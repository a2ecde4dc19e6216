#!/usr/bin/env bash
# test/demo.sh -- the main job: build, install, start a throwaway cluster,
# create the extension and send each seed document's example request.
#
#   bash test/demo.sh         set up and run the demo (leaves the cluster up)
#   bash test/demo.sh stop    stop the demo cluster
set -euo pipefail
cd "$(dirname "$0")/.."
. test/deps.sh
. test/cluster.sh

dir=/tmp/profile_ext_demo
port=54330
if [ "${1:-}" = stop ]; then
	cluster_stop "$dir"
	echo "demo cluster stopped"
	exit 0
fi

echo "== installing packages, building and installing profile_ext"
install_deps
build_install
echo "== starting a throwaway PostgreSQL 15 cluster in $dir (socket only, port $port)"
cluster_start "$dir" "$port"
echo "== creating the extension and sending the seed examples"
psql -X -q -v ON_ERROR_STOP=1 -f test/demo.sql

cat <<MSG

== done.  The cluster is still running:
   connect:  psql -h $dir -p $port -U postgres
   stop:     bash test/demo.sh stop
MSG

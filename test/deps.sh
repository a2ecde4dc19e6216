# test/deps.sh -- install what building and testing profile_ext needs.
#
# Sourced by test/demo.sh, test/check.sh and test/bench/*.sh.  Debian 12
# packages only; needs root (set SKIP_APT=1 to skip when they are there).

DEBIAN_PACKAGES="postgresql-15 postgresql-server-dev-15 libpq-dev libsodium-dev libssl-dev libicu-dev pkg-config make gcc libipc-run-perl python3 python3-psycopg"

install_deps() {
	if [ "${SKIP_APT:-0}" = 1 ]; then
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "run as root (apt-get install), or set SKIP_APT=1 if these are installed: $DEBIAN_PACKAGES" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null &&
		apt-get install -y -q --no-install-recommends $DEBIAN_PACKAGES >/dev/null
}

# Build and install the extension into the server's directories; extra
# make arguments (ASSERTS=1) go to both steps.
build_install() {
	make -s clean >/dev/null 2>&1 || true
	make -s "$@" >/dev/null && make -s "$@" install >/dev/null
}

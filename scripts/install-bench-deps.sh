#!/usr/bin/env bash
# Installs the external proxies that bench/run.sh measures Mizuchi against,
# from Debian, pinned to the candidates `apt-cache policy nginx haproxy` showed
# on Debian 12 (bookworm, with bookworm-security) when the pins were set:
#
#   nginx 1.22.1-9+deb12u11, haproxy 2.6.12-1+deb12u4
#
# NGINX_DEB_VERSION and HAPROXY_DEB_VERSION override the pins (e.g. after a
# security update replaces the version in the archive; `apt-cache policy
# nginx haproxy` shows the new candidate).
#
# A package already installed at its pinned version is left alone; when both
# are, the script does nothing and touches no network. Otherwise it runs
# `apt-get update` once and installs what is missing at the pinned versions.
# It needs root: as root it calls apt-get directly, otherwise through sudo.
# Progress goes to stderr.
#
# The bench starts its own nginx and haproxy processes (configured in its temp
# dir, on 127.0.0.1); it never uses the packages' services. On a host with an
# init system the packages' postinst scripts may start those services (nginx on
# port 80): stop them with your init system if you do not want them. Docker
# images and CI containers usually forbid that with /usr/sbin/policy-rc.d.
set -euo pipefail

# package=version, exactly as `apt-cache policy` shows it.
pins=(
	"nginx=${NGINX_DEB_VERSION:-1.22.1-9+deb12u11}"
	"haproxy=${HAPROXY_DEB_VERSION:-2.6.12-1+deb12u4}"
)

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
	echo "install-bench-deps: not a Debian system (no dpkg/apt-get); install nginx and haproxy yourself, or bench/run.sh skips them" >&2
	exit 1
fi

missing=()
for pin in "${pins[@]}"; do
	pkg="${pin%%=*}" want="${pin#*=}"
	have="$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$pkg" 2>/dev/null || true)"
	if [[ "$have" == "installed $want" ]]; then
		echo "install-bench-deps: $pkg $want already installed" >&2
		continue
	fi
	if [[ "$have" == installed\ * ]]; then
		echo "install-bench-deps: $pkg is installed at ${have#installed }; installing the pinned $want" >&2
	fi
	missing+=("$pin")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi

sudo=()
if ((EUID != 0)); then
	if ! command -v sudo >/dev/null; then
		echo "install-bench-deps: need root (or sudo) to install ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-bench-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
if ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends --allow-downgrades "${missing[@]}" >&2; then
	echo "install-bench-deps: install failed; if a pinned version is gone from the archive, set NGINX_DEB_VERSION / HAPROXY_DEB_VERSION to what \`apt-cache policy nginx haproxy\` shows as Candidate" >&2
	exit 1
fi
for pin in "${missing[@]}"; do
	pkg="${pin%%=*}"
	echo "install-bench-deps: $pkg $(dpkg-query -W -f='${Version}' "$pkg")" >&2
done
